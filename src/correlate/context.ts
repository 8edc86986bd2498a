/**
 * What the correlation operators need to know about an interface id: its label in
 * outputs, its namespace (matching happens within one node), and whether it is an
 * overlay device (its packets are the decapsulated side of carriers).
 */
export interface InterfaceInfo {
  label: string;
  namespace: string;
  overlay: boolean;
}

export type InterfaceDirectory = (id: number) => InterfaceInfo | undefined;

/** ns -> ISO 8601 (milliseconds are enough for symptoms and peers). */
export function isoOf(ns: number): string {
  return new Date(Math.floor(ns / 1e6)).toISOString();
}
