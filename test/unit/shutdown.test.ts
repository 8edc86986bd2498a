/**
 * The exit statuses after a signal (src/cli/shutdown.ts) as --help states them; the
 * behaviour itself is proven end to end by test/lab/signals.test.ts and
 * test/ui/signals-tmux.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HELP } from '../../src/cli/help.js';
import { Shutdown, SHUTDOWN_LIMIT_MS, signalStatus } from '../../src/cli/shutdown.js';

test('128 + the signal number, as --help says: 130 SIGINT, 143 SIGTERM, 129 SIGHUP; the 5 s bound', () => {
  assert.deepEqual([signalStatus('SIGINT'), signalStatus('SIGTERM'), signalStatus('SIGHUP')], [130, 143, 129]);
  assert.match(HELP, /status 128\+N\s+\(130 SIGINT, 143 SIGTERM, 129 SIGHUP\)/);
  assert.match(HELP, new RegExp(`a stop making no progress for ${SHUTDOWN_LIMIT_MS / 1000} s`));
});

test('a listener added after the first signal is called at once with it; before, exactly once', () => {
  const s = new Shutdown(60_000, () => undefined);
  const seen: string[] = [];
  s.onStop((sig) => seen.push(`early ${sig}`));
  // What the installed handler does on a signal, without sending one to the test runner.
  (s as unknown as { onSignal: (sig: 'SIGTERM') => void }).onSignal('SIGTERM');
  s.finished();
  s.onStop((sig) => seen.push(`late ${sig}`));
  assert.deepEqual(seen, ['early SIGTERM', 'late SIGTERM']);
  assert.equal(s.signal, 'SIGTERM');
});
