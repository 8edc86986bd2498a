/**
 * Short names for long network namespaces, so a row's identity is never cut (issue 19).
 *
 * An interface label is "namespace/device" ("demo10619-node-b/flannel.1"). Cutting it to a
 * column's width used to keep the device and cut the namespace, so the flannel.1 rows of
 * two nodes both read "demo10619~/flannel.1": the part that tells them apart was gone.
 * Instead, each long namespace gets an alias ("ns1") the first time it is seen, kept for
 * the whole run (a row never changes name under the reader), and every pane uses the
 * same alias with a legend line saying what it stands for. Device names are at most 15
 * characters (IFNAMSIZ), so "ns12/" plus a device always fits an identity column.
 */

/** Namespaces longer than this get an alias: "host", "nsb", "node-2" stay as they are. */
export const ALIAS_ABOVE = 8;

/** At most this many aliases are kept; later long namespaces keep their full name. */
export const MAX_ALIASES = 4096;

/**
 * The aliases with the namespaces of `namespaces` added: new long ones get the next
 * number, in name order within one call (so one update's numbering does not depend on
 * the order rows arrived in). Returns `prev` itself when nothing is new.
 */
export function nextAliases(prev: ReadonlyMap<string, string>, namespaces: Iterable<string>): ReadonlyMap<string, string> {
  const fresh = [...new Set(namespaces)].filter((ns) => ns.length > ALIAS_ABOVE && !prev.has(ns)).sort();
  if (fresh.length === 0 || prev.size >= MAX_ALIASES) return prev;
  const out = new Map(prev);
  for (const ns of fresh) {
    if (out.size >= MAX_ALIASES) break;
    out.set(ns, `ns${out.size + 1}`);
  }
  return out;
}

/** The namespace part of a label ("ns/dev"), or null for a host interface ("eth0"). */
export function namespaceOf(label: string): string | null {
  const slash = label.indexOf('/');
  return slash < 0 ? null : label.slice(0, slash);
}

/** A label with its namespace replaced by the alias, when it has one. */
export function aliasLabel(label: string, aliases: ReadonlyMap<string, string>): string {
  const ns = namespaceOf(label);
  const a = ns === null ? undefined : aliases.get(ns);
  return a === undefined ? label : `${a}${label.slice(ns!.length)}`;
}

/**
 * Free text (a finding's title) with every aliased namespace it names replaced by its
 * alias: the longest names first, so one that contains another is replaced whole.
 */
export function aliasText(text: string, aliases: ReadonlyMap<string, string>, used: Set<string>): string {
  let out = text;
  for (const ns of [...aliases.keys()].sort((a, b) => b.length - a.length)) {
    if (!out.includes(ns)) continue;
    out = out.split(ns).join(aliases.get(ns)!);
    used.add(ns);
  }
  return out;
}
