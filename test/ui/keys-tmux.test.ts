/**
 * Esc answers at once (issue 19), in a real terminal (tmux), on the replay dashboard of
 * examples/incident.pcapng (no lab needed): a lone Esc closes a detail or the help within
 * 150 ms (blessed delivers it as soon as it is read; the wait users saw in tmux was
 * tmux's own escape-time, which `send-keys` does not apply), arrow keys (escape sequences
 * themselves) still move, and Esc read together with the next key, as tmux sends them
 * after its escape-time, is both keys.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { BIN, ROOT } from '../lab/lab.js';
import { TmuxSession, killTmuxServer, tmuxProblem } from './tmux.js';

const T = { timeout: 30_000 };
const INCIDENT = `${ROOT}/examples/incident.pcapng`;
/** The longest a key may take to show on screen, capture included. */
const ANSWER_MS = 150;

after(() => killTmuxServer());

/** The selected row of the focused pane (marked "> "). */
function selectedRow(screen: string): string {
  const l = screen.split('\n').find((x) => x.startsWith('> '));
  assert.ok(l, `no selected row:\n${screen}`);
  return l;
}

/** Milliseconds from sending `keys` until `pred` holds, polling the pane as fast as tmux answers. */
async function answerMs(t: TmuxSession, pred: (screen: string) => boolean, ...keys: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  t.send(...keys);
  for (;;) {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (pred(t.capture())) return ms;
    if (ms > 3000) assert.fail(`no answer 3 s after ${keys.join(' ')}:\n${t.capture()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The replay, frozen at its end, with the flows pane focused. */
async function replayOnFlows(): Promise<TmuxSession> {
  const p = tmuxProblem();
  if (p) assert.fail(p);
  const t = new TmuxSession([BIN, '-r', INCIDENT, '--fast'], { width: 120, height: 40, cwd: ROOT });
  await t.waitFor((x) => /\[END OF FILE\]/.test(x), 15_000, 'the end of the replay');
  t.send('Tab');
  await t.waitFor((x) => /^>> Bad flows [2-9]/m.test(x), 3000, 'the flows pane focused, with two flows or more');
  return t;
}

test(`a lone Esc closes a flow detail and the help within ${ANSWER_MS} ms; arrow keys still move the selection`, T, async (tc) => {
  const t = await replayOnFlows();
  try {
    const first = selectedRow(t.capture());
    t.send('Down');
    const moved = await t.waitFor((x) => selectedRow(x) !== first, 3000, 'Down to move the selection');
    const second = selectedRow(moved);
    t.send('Up');
    await t.waitFor((x) => selectedRow(x) === first, 3000, 'Up to move it back');
    const took: number[] = [];
    for (let i = 0; i < 3; i++) {
      t.send('Down');
      await t.waitFor((x) => selectedRow(x) === second, 3000, 'the second flow selected');
      t.send('Enter');
      await t.waitFor((x) => /^Bad flow on /m.test(x), 3000, 'the flow detail');
      took.push(await answerMs(t, (x) => /^>> Bad flows/m.test(x) && !/^Bad flow on /m.test(x), 'Escape'));
      assert.equal(selectedRow(t.capture()), second, 'back on the panes with the same flow selected');
      took.push(await answerMs(t, (x) => /Help: keys/.test(x), '?'));
      took.push(await answerMs(t, (x) => !/Help: keys/.test(x), 'Escape'));
      t.send('Up');
      await t.waitFor((x) => selectedRow(x) === first, 3000, 'Up again');
    }
    // took: [Esc from the detail, ? (a plain key, for comparison), Esc from the help] x 3
    tc.diagnostic(`key to screen (ms; Esc, ?, Esc) x 3: ${took.map((x) => x.toFixed(0)).join(' ')}`);
    assert.ok(Math.max(...took) < ANSWER_MS, `key to screen (ms): ${took.map((x) => x.toFixed(0)).join(' ')}`);
    t.send('q');
    assert.equal(await t.exitStatus(), 1);
  } finally {
    t.kill();
  }
});

test('Esc and the next key read together (tmux sends a held Esc with the next key): both act, not taken for Alt+key', T, async () => {
  const t = await replayOnFlows();
  try {
    const first = selectedRow(t.capture());
    t.send('Enter');
    await t.waitFor((x) => /^Bad flow on /m.test(x), 3000, 'the flow detail');
    // ESC "j" in one write: Esc closes the detail, j moves to the next flow.
    t.send('-H', '1b', '6a');
    const screen = await t.waitFor((x) => /^>> Bad flows/m.test(x) && selectedRow(x) !== first, 3000, 'the detail closed and the next flow selected');
    assert.doesNotMatch(screen, /^Bad flow on /m);
    // ESC ESC in one write is two Escs: the help closes (the second Esc on the panes
    // clears a filter, none here).
    t.send('?');
    await t.waitFor((x) => /Help: keys/.test(x), 3000, 'the help');
    t.send('-H', '1b', '1b');
    await t.waitFor((x) => !/Help: keys/.test(x) && /^>> Bad flows/m.test(x), 3000, 'the help closed by ESC ESC');
    t.send('q');
    assert.equal(await t.exitStatus(), 1);
  } finally {
    t.kill();
  }
});
