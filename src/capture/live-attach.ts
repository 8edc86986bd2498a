/**
 * Opening rings on new interfaces for live capture (issue 15: one job of LiveSource):
 * every interface of a scan on every capture thread at once, and the ring-memory budget
 * that decides how many may be opened.
 */
import type { Link } from '../host/links.js';
import { isOverlayRole } from '../model/interface.js';
import type { InterfaceRequest, InterfaceResult, NativeLiveCapture } from '../native/live.js';
import { CaptureError, type CapturedInterface } from './source.js';

export interface AttachRequest {
  iface: CapturedInterface;
  link: Link;
  /** File for setns(2); undefined for csumtop's own namespace. */
  netns: string | undefined;
}

/**
 * Opens the interfaces' rings on every engine, each interface's rings joined in one
 * fanout group: one batch per engine, opened in parallel natively (each ring waits for
 * an RCU grace period: af_packet.c packet_set_ring -> synchronize_net). Returns, per
 * interface, null or why it could not be opened; an interface one engine could not open
 * is closed on the engines that had opened it.
 */
export function attachAll(natives: NativeLiveCapture[], todo: AttachRequest[]): Array<(Error & { code?: string }) | null> {
  const failed: Array<(Error & { code?: string }) | null> = todo.map(() => null);
  if (todo.length === 0) return failed;
  const [first, ...rest] = natives;
  const requests: InterfaceRequest[] = todo.map(({ iface, link, netns }) => ({
    id: iface.id,
    ifindex: link.ifindex,
    arphrd: link.arphrd,
    netns,
    fanout: rest.length > 0 ? 'new' : undefined,
    overlay: isOverlayRole(iface.role),
  }));
  const groups: number[] = [];
  const openedOn: NativeLiveCapture[][] = todo.map(() => []);
  const apply = (engine: NativeLiveCapture, indices: number[], results: InterfaceResult[]): void => {
    results.forEach((r, j) => {
      const k = indices[j];
      if ('error' in r) {
        failed[k] = Object.assign(new Error(r.error), { code: r.code });
        for (const n of openedOn[k]) n.removeInterface(todo[k].iface.id);
        openedOn[k] = [];
      } else {
        if (engine === first) groups[k] = r.group;
        openedOn[k].push(engine);
      }
    });
  };
  const all = todo.map((_, k) => k);
  apply(first, all, first.addInterfaces(requests));
  for (const n of rest) {
    const open = all.filter((k) => failed[k] === null);
    if (open.length > 0) apply(n, open, n.addInterfaces(open.map((k) => ({ ...requests[k], fanout: groups[k] }))));
  }
  return failed;
}

export interface RingBudget {
  /** Most ring memory of all interfaces together, in bytes. */
  cap: number;
  /** One ring's bytes (block size x block count). */
  ringBytes: number;
  threads: number;
  /** Interfaces attached now. */
  attached: number;
}

/**
 * Keeps the rings of all attached interfaces within the budget: drops from `todo` the
 * interfaces past it and says so (at start-up nothing is attached then, and the error
 * ends the run).
 */
export function overRingCap(todo: Array<{ link: Link }>, b: RingBudget, initial: boolean): CaptureError | null {
  if (todo.length === 0) return null;
  const perInterface = b.ringBytes * b.threads;
  const room = Math.max(0, Math.floor(b.cap / perInterface) - b.attached);
  if (todo.length <= room) return null;
  const total = b.attached + todo.length;
  const mib = (n: number): string => `${Math.round(n / 2 ** 20)} MiB`;
  const rings =
    `${mib(b.ringBytes)} per ring (--ring-mb)` +
    `${b.threads > 1 ? ` x ${b.threads} threads` : ''} x ${total} interfaces = ${mib(perInterface * total)}` +
    `, more than half of this host's memory (${mib(b.cap)})`;
  if (initial) {
    return new CaptureError(`ring memory: ${rings}: lower --ring-mb or select fewer interfaces with -i`, 'ERINGCAP');
  }
  const left = todo.splice(room);
  return new CaptureError(
    `ring memory: ${left.length} new interfaces not attached (${left
      .slice(0, 5)
      .map((t) => t.link.name)
      .join(', ')}${left.length > 5 ? ', ...' : ''}): ${rings}`,
    'ERINGCAP',
  );
}
