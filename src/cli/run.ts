/**
 * What bin/csumtop runs: main() with the command line, its result as the exit status.
 */
import { releaseDeadTerminalAtExit } from '../ui/dead-terminal.js';
import { main } from './main.js';
import { shutdown } from './shutdown.js';

main(process.argv.slice(2)).then(
  (code) => {
    shutdown.finished();
    releaseDeadTerminalAtExit();
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`csumtop: internal error: ${err instanceof Error && err.stack ? err.stack : String(err)}\n`);
    releaseDeadTerminalAtExit();
    process.exitCode = 70;
  },
);
