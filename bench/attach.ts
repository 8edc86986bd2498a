/**
 * Time to attach many interfaces: PAIRS veth pairs (2 x PAIRS interfaces, all up) in a
 * network namespace this bench creates and removes, captured by
 * `csumtop --netns NS -i 'ab*' --json`; the time from spawning csumtop until its last
 * interface reports "attached". Each ring's PACKET_RX_RING waits for an RCU grace period
 * (net/packet/af_packet.c packet_set_ring -> synchronize_net), so csumtop opens them on
 * several threads (LiveCapture::add_interfaces). Measured in the same run:
 *   - csumtop as shipped, from spawning it,
 *   - the attach step alone, in this process, on one capture engine: every ring in one
 *     batch through attachAll() (what csumtop does), against one ring at a time (as
 *     before the batch: a baseline kept here, not in csumtop),
 *   - the alternative with tcpdump: one `tcpdump -i IF` per interface, all started at once,
 *     until every one says "listening on" (each is its own process, so they overlap too),
 *   - `tcpdump -i any` until it says "listening on" (one socket, but no per-interface
 *     view and no kernel checksum status: reference only).
 *
 * Usage (root): node dist/bench/attach.js [--pairs 200] [--runs 3]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

import { attachAll, type AttachRequest } from '../src/capture/live-attach.js';
import { capturedInterfaceOf } from '../src/capture/source.js';
import { listLinks, resolveNetns } from '../src/host/links.js';
import { createNamespace, uniqueNs } from '../src/lab/lab.js';
import { createLiveCapture } from '../src/native/live.js';
import { BIN } from '../test/lab/lab.js';
import { benchArgs } from './measure.js';

const { values } = benchArgs(
  { pairs: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' } },
  'usage (root): node dist/bench/attach.js [--pairs 200] [--runs 3]',
);
const PAIRS = Number(values.pairs);
const RUNS = Number(values.runs);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Resolves with the ms until `ready()` is true (checked every 5 ms), rejects after limitMs. */
function timeUntil(ready: () => boolean, limitMs: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      if (ready()) {
        clearInterval(check);
        resolve(performance.now() - t0);
      } else if (performance.now() - t0 > limitMs) {
        clearInterval(check);
        reject(new Error(`not ready within ${limitMs} ms`));
      }
    }, 5);
  });
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once('exit', () => r());
          c.kill('SIGKILL');
        }),
    ),
  );
}

async function csumtopRun(ns: string, names: string[]): Promise<number> {
  const t0 = performance.now();
  const c = spawn(BIN, ['--netns', ns, '-i', 'ab*', '--json', '--duration', '600', '--ring-mb', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const attached = new Set<string>();
  let buf = '';
  c.stdout!.setEncoding('utf8');
  c.stdout!.on('data', (s: string) => {
    buf += s;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.includes('"event":"attached"')) attached.add((JSON.parse(line) as { interface: string }).interface);
    }
  });
  try {
    await timeUntil(() => names.every((n) => attached.has(n)), 120_000);
    return performance.now() - t0;
  } finally {
    await stopAll([c]);
  }
}

/**
 * The ms to open the rings of `names` on one capture engine in this process, with the
 * ring size of `--ring-mb 2`: in one attachAll() batch as LiveSource does (`serial`
 * false), or one attachAll() call per interface, each waiting for the last (true). The
 * rings are closed and the engine stopped afterwards.
 */
function attachInProcess(ns: string, names: string[], serial: boolean): number {
  const wanted = new Set(names);
  const netns = resolveNetns(ns);
  const todo: AttachRequest[] = listLinks(ns)
    .filter((l) => wanted.has(l.name))
    .map((link, k) => ({ iface: capturedInterfaceOf(link, k, ns), link, netns }));
  if (todo.length !== names.length) throw new Error(`${todo.length} of ${names.length} interfaces listed in ${ns}`);
  const engine = createLiveCapture({ blockSize: 1 << 20, blockCount: 2 }, () => {});
  engine.start();
  try {
    const t0 = performance.now();
    const failed = serial ? todo.map((t) => attachAll([engine], [t])[0]) : attachAll([engine], todo);
    const ms = performance.now() - t0;
    const e = failed.find((f) => f !== null);
    if (e) throw new Error(`attach failed: ${e.message}`);
    return ms;
  } finally {
    for (const t of todo) engine.removeInterface(t.iface.id);
    engine.stop();
  }
}

async function tcpdumpEach(ns: string, names: string[]): Promise<number> {
  const t0 = performance.now();
  let ready = 0;
  const children = names.map((n) => {
    const c = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', n, '-w', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (s: string) => {
      if (s.includes('listening on')) ready++;
    });
    return c;
  });
  try {
    await timeUntil(() => ready === names.length, 120_000);
    return performance.now() - t0;
  } finally {
    await stopAll(children);
  }
}

async function tcpdumpAny(ns: string): Promise<number> {
  const t0 = performance.now();
  let ready = false;
  const c = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'any', '-w', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
  c.stderr!.setEncoding('utf8');
  c.stderr!.on('data', (s: string) => {
    if (s.includes('listening on')) ready = true;
  });
  try {
    await timeUntil(() => ready, 30_000);
    return performance.now() - t0;
  } finally {
    await stopAll([c]);
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: it creates a network namespace and opens raw sockets');
  if (spawnSync('tcpdump', ['--version']).status !== 0) throw new Error('tcpdump is not installed');
  const ns = uniqueNs('AT');
  const remove = createNamespace(ns);
  try {
    const cmds: string[] = [];
    for (let k = 0; k < PAIRS; k++) cmds.push(`link add ab${k}a type veth peer name ab${k}b`, `link set ab${k}a up`, `link set ab${k}b up`);
    spawnSync('ip', ['-n', ns, '-batch', '-'], { input: cmds.join('\n') + '\n' });
    const names = Array.from({ length: PAIRS }, (_, k) => [`ab${k}a`, `ab${k}b`]).flat();
    const t = { csumtop: [] as number[], batch: [] as number[], serial: [] as number[], each: [] as number[], any: [] as number[] };
    for (let r = 0; r < RUNS; r++) {
      t.csumtop.push(await csumtopRun(ns, names));
      t.batch.push(attachInProcess(ns, names, false));
      t.serial.push(attachInProcess(ns, names, true));
      t.each.push(await tcpdumpEach(ns, names));
      t.any.push(await tcpdumpAny(ns));
    }
    const row = (name: string, xs: number[]): string =>
      `${name.padEnd(44)} ${(median(xs) / 1000).toFixed(2).padStart(8)}   ${xs.map((x) => (x / 1000).toFixed(2)).join(' / ')}`;
    console.log(`${names.length} interfaces (${PAIRS} veth pairs, up) in one namespace, ${RUNS} runs each, median and per run (s)\n`);
    console.log(`${'until every interface is captured'.padEnd(44)} ${'median'.padStart(8)}   runs`);
    console.log(row('csumtop (spawned; rings opened in parallel)', t.csumtop));
    console.log(row('  attach step alone: one batch (attachAll)', t.batch));
    console.log(row('  attach step alone: one ring at a time', t.serial));
    console.log(row(`${names.length} x tcpdump -i IF, started together`, t.each));
    console.log(row('tcpdump -i any (one socket, reference)', t.any));
    console.log(
      `\nattach one at a time / one batch: ${(median(t.serial) / median(t.batch)).toFixed(1)}x; ${names.length} tcpdumps / csumtop: ${(median(t.each) / median(t.csumtop)).toFixed(1)}x`,
    );
  } finally {
    remove();
  }
}

main().catch((err) => {
  console.error(`bench/attach: ${(err as Error).message}`);
  process.exitCode = 1;
});
