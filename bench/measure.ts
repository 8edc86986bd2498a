/**
 * Runs a command and measures wall time, CPU time and peak resident memory of it and
 * its children, with GNU time (-f): the same instrument for csumtop and every tool it
 * is compared with.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Measurement {
  label: string;
  seconds: number;
  cpuSeconds: number;
  maxRssKiB: number;
  exitCode: number;
}

const GNU_TIME = '/usr/bin/time';

export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function measure(label: string, argv: string[], opts: { okCodes?: number[]; env?: NodeJS.ProcessEnv } = {}): Measurement {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing: apt-get install time`);
  const out = path.join(os.tmpdir(), `csumtop-bench-time-${process.pid}.txt`);
  const r = spawnSync(GNU_TIME, ['-o', out, '-f', '%e %U %S %M %x', ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: opts.env ?? process.env,
    maxBuffer: 64 << 20,
  });
  const fields = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ');
  rmSync(out, { force: true });
  const exitCode = Number(fields[4]);
  const ok = opts.okCodes ?? [0];
  if (!ok.includes(exitCode)) {
    throw new Error(`${label}: ${argv.join(' ')} exited ${exitCode}: ${r.stderr?.toString().slice(0, 400)}`);
  }
  return {
    label,
    seconds: Number(fields[0]),
    cpuSeconds: Number(fields[1]) + Number(fields[2]),
    maxRssKiB: Number(fields[3]),
    exitCode,
  };
}

/** Best (fastest) of n runs: the least disturbed by the rest of the machine. */
export function bestOf(n: number, fn: () => Measurement): Measurement {
  let best: Measurement | undefined;
  for (let i = 0; i < n; i++) {
    const m = fn();
    if (!best || m.seconds < best.seconds) best = m;
  }
  return best!;
}

/**
 * The options of a benchmark script: `--help` prints `usage` and exits 0; an unknown or
 * malformed option prints what is wrong and `usage` on stderr and exits 2 (not a stack trace).
 */
export function benchArgs<O extends NonNullable<ParseArgsConfig['options']>>(options: O, usage: string) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ options, strict: true, allowPositionals: false });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}
