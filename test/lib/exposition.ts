/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4,
 * prometheus.io/docs/instrumenting/exposition_formats/), for tests: every sample line
 * becomes { name, labels, value }, every "# TYPE" line a type. Throws on a line it does
 * not understand, so a malformed exposition fails the test instead of being skipped.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  help: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseLabels(text: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (!m) throw new Error(`bad label at ${i} in: ${line}`);
    i += m[0].length;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const n = text[i + 1];
        value += n === 'n' ? '\n' : n;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    if (m[1] in labels) throw new Error(`label ${m[1]} twice in: ${line}`);
    labels[m[1]] = value;
    i++; // closing quote
    if (text[i] === ',') i++;
  }
}

export function parseExposition(text: string): Exposition {
  const out: Exposition = { samples: [], types: new Map(), help: new Map() };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      out.types.set(name, type);
      continue;
    }
    if (line.startsWith('# HELP ')) {
      const sp = line.indexOf(' ', 7);
      out.help.set(line.slice(7, sp), line.slice(sp + 1));
      continue;
    }
    if (line.startsWith('#')) continue;
    const n = NAME.exec(line);
    if (!n) throw new Error(`not a sample line: ${line}`);
    let rest = line.slice(n[0].length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const v = rest.trim().split(/\s+/)[0];
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    // Prometheus parses values with Go's strconv.ParseFloat, which takes NaN in any case
    // (prom-client writes `Nan` for an event-loop lag not yet measured).
    if (v === undefined || (Number.isNaN(value) && v.toLowerCase() !== 'nan')) throw new Error(`bad value in: ${line}`);
    out.samples.push({ name: n[0], labels, value });
  }
  return out;
}

/** Samples of `name` whose labels include all of `match`. */
export function select(e: Exposition, name: string, match: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** The one sample of `name` matching `match`: throws when there are none or several. */
export function value(e: Exposition, name: string, match: Record<string, string> = {}): number {
  const s = select(e, name, match);
  if (s.length !== 1) throw new Error(`${s.length} samples of ${name} ${JSON.stringify(match)} (expected exactly 1)`);
  return s[0].value;
}
