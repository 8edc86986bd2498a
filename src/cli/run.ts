/**
 * What bin/csumtop runs: main() with the command line, its result as the exit status.
 */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`csumtop: internal error: ${err instanceof Error && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
