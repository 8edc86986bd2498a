/**
 * Dropping root after the capture sockets are open (like tcpdump -Z): the sockets keep
 * working, nothing later runs with more rights than it needs. The user is looked up in
 * /etc/passwd directly: no shell and no other program ever sees the name.
 */
import { readFileSync } from 'node:fs';

import { dropBoundingSet } from '../native/host.js';

export class PrivilegeError extends Error {
  /** True when the user asked for something csumtop has not the rights to do (exit 3), not a mistake (exit 2). */
  constructor(
    message: string,
    readonly notPermitted = false,
  ) {
    super(message);
  }
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

export function lookupUser(name: string, passwd = '/etc/passwd'): PasswdEntry {
  if (!/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(name)) throw new PrivilegeError(`--user: invalid user name '${name}'`);
  for (const line of readFileSync(passwd, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new PrivilegeError(`--user: no such user '${name}'`);
}

/** Switches the process to `name` (groups, then gid, then uid: the order that works). */
export function dropTo(name: string): PasswdEntry {
  const u = lookupUser(name);
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new PrivilegeError('--user needs csumtop to start as root (it switches user with setuid/setgid)', true);
  }
  // While still root (CAP_SETPCAP): nothing started later can regain a capability.
  dropBoundingSet();
  (process as unknown as { initgroups(user: string, group: number): void }).initgroups(u.name, u.gid);
  process.setgid!(u.gid);
  process.setuid!(u.uid);
  if (process.getuid!() !== u.uid || process.geteuid!() !== u.uid) {
    throw new PrivilegeError(`--user: still running as uid ${process.geteuid!()} after switching to ${u.name}`);
  }
  return u;
}
