/**
 * Label caps of the Prometheus exporter (issue 6: "label cardinality is capped"), in a
 * module of their own so that parsing the command line does not load prom-client.
 */

/** Interfaces with their own `interface` label at once; more fold into "other". */
export const DEFAULT_MAX_INTERFACES = 512;
/** Peers with their own `peer` label; more fold into "other" (--metrics-max-peers). */
export const DEFAULT_MAX_PEERS = 64;
