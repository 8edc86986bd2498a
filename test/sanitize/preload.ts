/**
 * Loaded with `node --require` (through NODE_OPTIONS) into every Node process of the
 * sanitizer run (test/sanitize/asan.test.ts). The ASan runtime must be the first library
 * a process loads, so Node runs with LD_PRELOAD=libasan.so; but other programs the tests
 * start must not: editcap under a preloaded libasan hangs before printing its usage
 * (measured: `LD_PRELOAD=$(g++ -print-file-name=libasan.so) editcap` is killed by a 20 s
 * timeout), and they are not what is being tested. So this drops LD_PRELOAD from the
 * environment and gives it back only to child processes that run Node: process.execPath,
 * `node`, bin/csumtop (a sh launcher that execs node), or a wrapper (`ip netns exec`,
 * capsh) whose arguments name one of them.
 */
// The module object itself (not an import namespace, whose properties are getters).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object, patched in place
import childProcess = require('node:child_process');
import { syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';

const lib = process.env.CSUMTOP_ASAN_PRELOAD;

function runsNode(words: unknown[]): boolean {
  return words.some(
    (w) =>
      typeof w === 'string' &&
      (w === process.execPath || path.basename(w) === 'node' || /(^|\/)csumtop$/.test(w) || /(^|\s)(node|\S*\/bin\/csumtop)(\s|$)/.test(w)),
  );
}

type AnyFn = (...a: unknown[]) => unknown;

/**
 * The call's arguments with LD_PRELOAD added to its options' env; `at` is where the
 * options go. Under a tracer (strace) LeakSanitizer cannot run ("LeakSanitizer does not
 * work under ptrace") and aborts the process at exit, so leak checking is off there.
 */
function withPreload(args: unknown[], at: number): unknown[] {
  const out = [...args];
  const given = out[at];
  const isOptions = typeof given === 'object' && given !== null && !Array.isArray(given);
  const opts = (isOptions ? given : {}) as { env?: NodeJS.ProcessEnv };
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), LD_PRELOAD: lib };
  if (typeof args[0] === 'string' && /^(strace|ltrace|gdb)$/.test(path.basename(args[0]))) {
    env.ASAN_OPTIONS = `${env.ASAN_OPTIONS ?? ''}:detect_leaks=0`;
  }
  const patched = { ...opts, env };
  if (isOptions) out[at] = patched;
  else out.splice(at, 0, patched); // none given: insert (before a trailing callback, if any)
  return out;
}

if (lib) {
  if (process.env.LD_PRELOAD === lib) delete process.env.LD_PRELOAD;
  const cp = childProcess as unknown as Record<string, AnyFn>;
  // spawn/spawnSync/execFile/execFileSync(file, args?, options?, callback?)
  const fileFirst = (args: unknown[]): number => (Array.isArray(args[1]) ? 2 : Math.min(1, args.length));
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
    const orig = cp[name];
    cp[name] = function (this: unknown, ...args: unknown[]) {
      const words = [args[0], ...(Array.isArray(args[1]) ? (args[1] as unknown[]) : [])];
      return orig.apply(this, runsNode(words) ? withPreload(args, fileFirst(args)) : args);
    };
  }
  // exec/execSync(command, options?, callback?): a shell line
  for (const name of ['exec', 'execSync']) {
    const orig = cp[name];
    cp[name] = function (this: unknown, ...args: unknown[]) {
      return orig.apply(this, runsNode([args[0]]) ? withPreload(args, Math.min(1, args.length)) : args);
    };
  }
  // fork always runs Node
  const fork = cp.fork;
  cp.fork = function (this: unknown, ...args: unknown[]) {
    return fork.apply(this, withPreload(args, fileFirst(args)));
  };
  syncBuiltinESMExports();
}
