/**
 * The argument of `--metrics [ADDR:]PORT`. Only IP literals are accepted, no host names:
 * an exporter on a node must bind to exactly what was asked, without a name lookup that
 * could resolve differently from one node to the next. Without ADDR it binds to
 * 127.0.0.1 (issue 6: "bound to 127.0.0.1 unless an address is given"), so the counters
 * of a node are not published on every interface by accident.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface ListenAddress {
  /** An IPv4 or IPv6 literal, without brackets. */
  host: string;
  /** 0 asks the kernel for a free port (the chosen one is printed). */
  port: number;
  family: 4 | 6;
}

export const DEFAULT_METRICS_HOST = '127.0.0.1';

export class ListenAddressError extends Error {}

function parsePort(text: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new ListenAddressError(`'${whole}': '${text}' is not a port number (0-65535)`);
  }
  return Number(text);
}

/** Parses "9977", "0.0.0.0:9977", "[::1]:9977"; throws ListenAddressError naming the mistake. */
export function parseListenAddress(text: string): ListenAddress {
  const whole = text.trim();
  if (whole === '') throw new ListenAddressError('expected [ADDR:]PORT, e.g. 9977, 0.0.0.0:9977 or [::1]:9977');
  if (whole.startsWith('[')) {
    const m = /^\[([^\]]*)\]:(.*)$/.exec(whole);
    if (!m) throw new ListenAddressError(`'${whole}': an IPv6 address is written [ADDR]:PORT, e.g. [::1]:9977`);
    if (!isIPv6(m[1])) throw new ListenAddressError(`'${whole}': '${m[1]}' is not an IPv6 address`);
    return { host: m[1], port: parsePort(m[2], whole), family: 6 };
  }
  const colons = whole.split(':').length - 1;
  if (colons === 0) return { host: DEFAULT_METRICS_HOST, port: parsePort(whole, whole), family: 4 };
  if (colons > 1) {
    throw new ListenAddressError(`'${whole}': an IPv6 address needs brackets, e.g. [::1]:9977`);
  }
  const [host, port] = whole.split(':');
  if (!isIPv4(host)) {
    throw new ListenAddressError(`'${whole}': '${host}' is not an IPv4 address (use an address such as 127.0.0.1 or 0.0.0.0; host names are not looked up)`);
  }
  return { host, port: parsePort(port, whole), family: 4 };
}

/** "127.0.0.1:9977" or "[::1]:9977", as a URL authority. */
export function formatListenAddress(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
