/**
 * One end-to-end flow endpoint as every report, event and view shows it: addresses as
 * text, ports (or ICMP type and code) when decoded. The addon's packed endpoint
 * (native/flow/bad_flows.h FlowEndpoint) becomes this once, in src/native/records.ts.
 */

export interface Endpoint {
  family: 4 | 6;
  src: string;
  dst: string;
  /** IP protocol number (17 UDP, 6 TCP, 1 ICMP, 58 ICMPv6, ...). */
  proto: number;
  /** Ports for UDP/TCP; ICMP type and code otherwise; null when not decoded. */
  sport: number | null;
  dport: number | null;
}
