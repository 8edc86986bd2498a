/**
 * Names for peer nodes' addresses, as tcpdump prints names without -n (issue 19): what
 * the dashboard shows next to a peer. Never on the packet path: the dashboard asks once per
 * update for the peers it shows, and gets a name only when one is already known.
 *
 * Sources, in order:
 * - the hosts file (/etc/hosts, hosts(5)): read at start and again when it changes
 *   (checked at most every HOSTS_RECHECK_MS), first name of the first line naming the
 *   address, as getnameinfo(3) with nsswitch "files" answers;
 * - only with --dns-names, the system resolver (getnameinfo(3) through
 *   dns.lookupService: nsswitch, so DNS PTR queries): asynchronous, at most
 *   MAX_IN_FLIGHT at once, answers later than LOOKUP_TIMEOUT_MS ignored, every answer
 *   (a name or none) cached, at most MAX_NAMES addresses.
 *
 * DNS is off by default because the incident csumtop is for breaks DNS: tcpdump without
 * -n stalls on a resolver that does not answer, and every PTR query would add to the load
 * on the DNS service that is failing. `-n` turns names off altogether.
 */
import { lookupService } from 'node:dns';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';

export const HOSTS_RECHECK_MS = 5000;
export const MAX_IN_FLIGHT = 4;
export const LOOKUP_TIMEOUT_MS = 2000;
export const MAX_NAMES = 4096;

export interface PeerNameOptions {
  hostsFile?: string;
  /** Ask the system resolver too (--dns-names). */
  dns?: boolean;
  /** Clock (tests). */
  nowMs?: () => number;
  /** getnameinfo (tests); node's dns.lookupService by default. */
  resolve?: (addr: string, done: (name: string | null) => void) => void;
}

/** Address -> first name, from a hosts(5) file's text; addresses normalised (IPv6 case and zeros). */
export function parseHosts(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [addr, name] = line.split(/\s+/);
    if (!name || isIP(addr) === 0) continue;
    const key = normalise(addr);
    if (!out.has(key)) out.set(key, name);
  }
  return out;
}

/** One spelling per address: IPv6 through the URL parser's canonical form (lower case, zeros compressed). */
function normalise(addr: string): string {
  if (isIP(addr) !== 6) return addr;
  try {
    return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  } catch {
    return addr.toLowerCase();
  }
}

function systemResolve(addr: string, done: (name: string | null) => void): void {
  lookupService(addr, 0, (err, hostname) => done(err || !hostname || hostname === addr ? null : hostname));
}

export class PeerNames {
  private hosts = new Map<string, string>();
  private hostsStamp = '';
  private hostsCheckedMs = -Infinity;
  /** DNS answers: a name, or null for "asked, no name". Insertion order is age. */
  private readonly dnsCache = new Map<string, string | null>();
  private inFlight = 0;
  private readonly now: () => number;
  private readonly resolve: (addr: string, done: (name: string | null) => void) => void;

  constructor(private readonly opts: PeerNameOptions = {}) {
    this.now = opts.nowMs ?? Date.now;
    this.resolve = opts.resolve ?? systemResolve;
  }

  /** The name of `addr` if known now; with DNS on, an unknown address is looked up for a later call. */
  name(addr: string): string | null {
    if (isIP(addr) === 0) return null;
    const key = normalise(addr);
    this.refreshHosts();
    const fromHosts = this.hosts.get(key);
    if (fromHosts !== undefined) return fromHosts;
    if (!this.opts.dns) return null;
    const cached = this.dnsCache.get(key);
    if (cached !== undefined) return cached;
    this.lookUp(key);
    return null;
  }

  private lookUp(addr: string): void {
    if (this.inFlight >= MAX_IN_FLIGHT) return; // asked again at the next update
    this.inFlight++;
    const started = this.now();
    let settled = false;
    const finish = (name: string | null): void => {
      if (settled) return;
      settled = true;
      this.inFlight--;
      // A resolver slower than the bound counts as "no name": it is not asked again
      // for this address (the cache remembers it), so a dead resolver costs one wait per peer.
      this.remember(addr, this.now() - started > LOOKUP_TIMEOUT_MS ? null : name);
    };
    const timer = setTimeout(() => finish(null), LOOKUP_TIMEOUT_MS);
    timer.unref();
    this.resolve(addr, (name) => {
      clearTimeout(timer);
      finish(name);
    });
  }

  private remember(addr: string, name: string | null): void {
    if (this.dnsCache.size >= MAX_NAMES) this.dnsCache.delete(this.dnsCache.keys().next().value as string);
    this.dnsCache.set(addr, name);
  }

  private refreshHosts(): void {
    const now = this.now();
    if (now - this.hostsCheckedMs < HOSTS_RECHECK_MS) return;
    this.hostsCheckedMs = now;
    const file = this.opts.hostsFile ?? '/etc/hosts';
    try {
      const st = statSync(file);
      const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (stamp === this.hostsStamp) return;
      this.hosts = parseHosts(readFileSync(file, 'utf8'));
      this.hostsStamp = stamp;
    } catch {
      // No hosts file (a minimal container): no names from it.
      this.hosts = new Map();
      this.hostsStamp = '';
    }
  }

  /** Lookups waiting for the resolver (tests, bounds). */
  get pending(): number {
    return this.inFlight;
  }
}
