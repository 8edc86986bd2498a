/**
 * A terminal that went away (its pty closed: tmux killed, ssh dropped) must not turn
 * csumtop's exit into a crash. Node saves the terminal state of standard input, output
 * and error at start-up and puts it back at exit (ResetStdio, src/node.cc); on a hung-up
 * terminal tcsetattr(2) fails with EIO and Node aborts (SIGABRT, "Assertion failed:
 * !(err != 0) || (err == -1 && errno == 1)" in Node 20; found by
 * test/ui/signals-tmux.test.ts). ResetStdio skips a descriptor that is closed, so the
 * ones whose terminal is gone are closed as the very last thing before exit.
 *
 * A hung-up terminal answers every ioctl but TIOCSPGRP with EIO (drivers/tty/tty_io.c,
 * hung_up_tty_ioctl), so isatty(3) turns false for a descriptor that was a terminal at
 * start-up.
 */
import * as fs from 'node:fs';
import * as tty from 'node:tty';

const STDIO = [0, 1, 2] as const;
const startedAsTerminal = STDIO.map((fd) => tty.isatty(fd));

/** True when a standard descriptor was a terminal at start-up and is not one any more. */
export function terminalGone(): boolean {
  return STDIO.some((fd) => startedAsTerminal[fd] && !tty.isatty(fd));
}

/** Closes the standard descriptors whose terminal is gone (only at exit: nothing may be opened after). */
export function releaseDeadTerminal(): void {
  for (const fd of STDIO) {
    if (!startedAsTerminal[fd] || tty.isatty(fd)) continue;
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
  }
}

/** Runs releaseDeadTerminal() after every other 'exit' handler registered so far. */
export function releaseDeadTerminalAtExit(): void {
  process.removeListener('exit', releaseDeadTerminal);
  process.on('exit', releaseDeadTerminal);
}
