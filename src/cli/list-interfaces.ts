/**
 * `csumtop -D` (`--list-interfaces`): the interfaces csumtop can capture on, one per line
 * as `tcpdump -D` prints them (`1.eth0 [Up, Running]`), with what csumtop adds: the link
 * kind and driver, the namespace (`NS/IF` with --netns/--pid, as the report labels
 * interfaces), and whether its frames are decoded. `-i` narrows the list as it narrows a
 * capture. Listing needs no capture right: rtnetlink in csumtop's own namespace, and
 * CAP_SYS_ADMIN only to enter another one (exit 3 without, as for capture).
 */
import { listLinks, selectInterfaces, type Link } from '../host/links.js';
import { interfaceLabel } from '../model/interface.js';
import { printable } from '../output/printable.js';
import type { Options } from './args.js';
import { namespaceRefused } from '../native/host.js';
import { EXIT_NO_PRIVILEGE, EXIT_OK, EXIT_USAGE } from './exit-status.js';
import { selectedNamespaces, type LiveIo } from './live-session.js';

/** One line of the list, without its number. */
export function interfaceLine(label: string, link: Link): string {
  const what = [link.loopback ? 'loopback' : (link.kind ?? 'device'), ...(link.driver && link.driver !== link.kind ? [`driver ${link.driver}`] : [])];
  const flags = [link.up ? 'Up' : 'Down', ...(link.running ? ['Running'] : []), ...(link.loopback ? ['Loopback'] : [])];
  // Any link can be captured; only Ethernet and raw IP frames are decoded (Link.linktype).
  if (link.linktype === null) flags.push(`not decoded: ARPHRD ${link.arphrd}`);
  return `${printable(label)} (${what.map((w) => printable(w)).join(', ')}) [${flags.join(', ')}]`;
}

export async function listInterfacesMode(opts: Options, io: LiveIo): Promise<number> {
  const specs = await selectedNamespaces(opts, io);
  if (typeof specs === 'number') return specs;
  const lines: string[] = [];
  let unmatched: string[] = [];
  for (const spec of specs) {
    let links: Link[];
    try {
      links = spec.path === null ? listLinks() : listLinks(spec.path);
    } catch (err) {
      await io.warn((err as Error).message);
      return namespaceRefused(err) ? EXIT_NO_PRIVILEGE : EXIT_USAGE;
    }
    // -i narrows the list; without it every link is listed (loopback and links that are
    // down too, which -i can still name).
    const sel = opts.interfaces === null ? links : selectInterfaces(links, opts.interfaces).selected;
    if (opts.interfaces !== null) unmatched = selectInterfaces(links, opts.interfaces).unmatched;
    for (const link of sel) lines.push(interfaceLine(interfaceLabel(spec.label, link.name), link));
  }
  await io.out(lines.map((l, k) => `${k + 1}.${l}\n`).join(''));
  if (opts.interfaces !== null && lines.length === 0) {
    await io.warn(`no such interface: ${unmatched.join(', ') || opts.interfaces.join(',')}`);
    return EXIT_USAGE;
  }
  return EXIT_OK;
}
