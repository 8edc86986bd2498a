/**
 * What bin/csumtop runs: main() with the command line, its result as the exit status.
 */
import { releaseDeadTerminalAtExit } from '../ui/dead-terminal.js';
import { EXIT_INTERNAL } from './exit-status.js';
import { main } from './main.js';
import { EXIT_OUTPUT_LOST, shutdown } from './shutdown.js';

main(process.argv.slice(2)).then(
  (code) => {
    shutdown.finished();
    releaseDeadTerminalAtExit();
    // Output that could not be written is a write error whatever was found (README: 2),
    // and nothing is left to say: exit now rather than when the last handle closes (a
    // NAT-rule reader may still run for seconds).
    if (shutdown.lost !== null) process.exit(EXIT_OUTPUT_LOST);
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`csumtop: internal error: ${err instanceof Error && err.stack ? err.stack : String(err)}\n`);
    releaseDeadTerminalAtExit();
    process.exitCode = EXIT_INTERNAL;
  },
);
