/**
 * `csumtop --demo`: builds the two-node VXLAN lab in network namespaces (src/lab/),
 * runs traffic and fault bursts through it and shows the dashboard on both nodes'
 * interfaces. `--demo-broken` injects nothing: node 1 is put into variant A's broken
 * state, the kernels break and drop the carriers, and `F` applies the remedy. The lab is removed on every exit path: normally in `finally` (q, or a
 * signal: exit status 0 as after q), and by the lab's cleanup registry at process exit
 * (a second signal, a shutdown past its bound, an exit from anywhere else).
 */
import { Subject } from 'rxjs';

import { resolveNetns } from '../host/links.js';
import { BROKEN_TOOLS, DEMO_FIX, applyFix, breakSender, startTraffic } from '../lab/demo.js';
import { Lab, leaveSignalsToCaller, which } from '../lab/lab.js';
import type { Options } from './args.js';
import { liveDashboard } from './dashboard-mode.js';
import { EXIT_NO_PRIVILEGE, EXIT_USAGE } from './exit-status.js';
import type { LiveIo } from './live-session.js';

export async function demoMode(opts: Options, io: LiveIo): Promise<number> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    await io.warn('--demo builds network namespaces, veth and VXLAN devices: run it as root (sudo csumtop --demo)');
    return EXIT_NO_PRIVILEGE;
  }
  const missing = opts.demoBroken ? BROKEN_TOOLS.filter((t) => !which(t)) : [];
  if (missing.length > 0) {
    await io.warn(`--demo-broken needs ${missing.join(' and ')} (apt-get install ${missing.join(' ')})`);
    return EXIT_USAGE;
  }
  // Names carry the pid: two demos (or a demo and the lab tests) never share a namespace.
  const names = { A: `demo${process.pid}-node1`, B: `demo${process.pid}-node2` };
  // A signal stops the dashboard like q (src/cli/shutdown.ts) and the lab is removed in
  // `finally`; the registry's 'exit' handler still removes it on a forced exit.
  leaveSignalsToCaller();
  let lab: Lab;
  try {
    lab = Lab.create(names);
    await lab.startServers();
  } catch (err) {
    await io.warn(`--demo: the lab could not be built: ${(err as Error).message}`);
    return EXIT_USAGE;
  }
  let traffic: ReturnType<typeof startTraffic> | null = null;
  const warnings = new Subject<string>();
  try {
    if (opts.demoBroken) breakSender(lab);
    const specs = [lab.A, lab.B].map((ns) => ({ label: ns, path: resolveNetns(ns) }));
    const code = await liveDashboard(opts, io, {
      mode: opts.demoBroken ? 'demo (node1 broken: variant A)' : 'demo',
      specs,
      started: () => {
        traffic = startTraffic(lab, (w) => warnings.next(w), { faultEveryMs: opts.demoBroken ? null : 4000 });
      },
      warnings$: warnings,
      fix: opts.demoBroken
        ? {
            what: `${DEMO_FIX.where}: ${DEMO_FIX.command}`,
            apply: async () => {
              await applyFix(lab);
              return `applied on ${DEMO_FIX.where} (${lab.A}): ${DEMO_FIX.command}`;
            },
          }
        : undefined,
      // Stopping capture, then the lab's removal, took 8-28 s of blank terminal on a busy
      // machine after q (issue 19): the terminal says what it waits for.
      closing: () => void io.warn(`--demo: stopping the capture and removing the lab (network namespaces ${lab.A} and ${lab.B})...`),
    });
    // Exit 3 and 2 (capture could not start) pass through; bad checksums are the point here.
    return code === 1 ? 0 : code;
  } catch (err) {
    await io.warn(`--demo: ${(err as Error).message}`);
    return EXIT_USAGE;
  } finally {
    await (traffic as ReturnType<typeof startTraffic> | null)?.stop();
    lab.destroy();
  }
}
