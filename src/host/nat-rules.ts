/**
 * kube-proxy's and flannel's NAT rules, as the variant A diagnosis needs them
 * (docs/domain.md): is the VXLAN carrier at risk of being masqueraded a second time with a
 * port change (MASQUERADE --random-fully, kube-proxy >= 1.16), is kube-proxy's mark fix
 * there (kubernetes/kubernetes#92035, in 1.19, 1.18.6, 1.17.9, 1.16.13), and does
 * flannel's own masquerade chain skip kube-proxy-marked packets (flannel-io/flannel#1681,
 * the fix of flannel#1679).
 *
 * Sources, per network namespace, each reported on its own (both xtables backends and
 * native nftables can be active at once, and all their hooks run):
 *   iptables-save, iptables-legacy-save, iptables-nft-save, nft list ruleset.
 * The tools run without a shell (execFile with argument arrays), inside the namespace
 * with `ip netns exec NAME` (a name under /run/netns) or `nsenter --net=PATH`. A tool
 * that is missing, fails or times out makes its source 'unavailable' with the reason;
 * nothing here throws for that.
 *
 * Why the *-save tools run without `-t nat`: with a table name, the legacy backend asks
 * the kernel for that table (getsockopt IPT_SO_GET_INFO "nat"), and the kernel then
 * loads iptable_nat and instantiates the nat table, with its hooks, in a namespace that
 * had none (net/netfilter/x_tables.c xt_find_table_lock -> request_module, and the
 * table's per-netns init). Measured: `iptables-legacy-save -t nat` in a fresh namespace
 * leaves "nat" in its /proc/net/ip_tables_names. Without -t, iptables-save lists only the
 * tables that exist (/proc/net/ip_tables_names), and the *nat section is cut out here.
 *
 * The parsers (parseIptablesSave, parseNftRuleset, analyze*) are pure functions.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { MasqueradeRule, NatFacts, NatRulesAnalysis, NatSourceName, NatSourceReport } from '../model/host-facts.js';
import { resolveNetns } from './links.js';

// ================================================================== neutral rule model

type ChainRole = 'kube-mark-masq' | 'kube-postrouting' | 'flannel' | 'other';

/** One rule, reduced to what the analysis needs; the same for iptables and nft. */
export interface NatRule {
  /** Display name: "KUBE-POSTROUTING", or "table ip kube-proxy / chain masquerading". */
  chain: string;
  role: ChainRole;
  text: string;
  masquerade: { randomFully: boolean; random: boolean } | null;
  /** RETURN for packets whose mark lacks these bits (`! --mark M/M`, `mark & M == 0`). */
  returnsIfUnmarked: number | null;
  /** RETURN for packets carrying these bits (`--mark M/M`, flannel's `meta mark M`). */
  returnsIfMarked: number | null;
  /** The rule only applies to packets carrying these bits (`mark & M != 0`, nft's one-rule form). */
  onlyIfMarked: number | null;
  /** Bits a MARK / `mark set` statement sets on every packet it sees (KUBE-MARK-MASQ). */
  setsBits: number | null;
  /** Bits it clears on a packet that has them (`--xor-mark M`, `--set-xmark M/0`, `mark ^ M`). */
  clearsBits: number | null;
}

export interface ParsedRuleSet {
  /** Chains that exist (declared), with the role their name gives them. */
  chains: Array<{ name: string; role: ChainRole; table: string | null }>;
  rules: NatRule[];
  /** "# Warning: ..." lines the tool printed. */
  warnings: string[];
  /** False when the output holds no nat table at all (the backend has none). */
  hasNatTable: boolean;
}

const U32 = 0xffffffff;

function parseNumber(s: string): number | null {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) && n >= 0 && n <= U32 ? n : null;
}

/** "0x4000/0x4000" -> {value, mask}; no mask means all 32 bits. */
function valueMask(s: string): { value: number; mask: number } | null {
  const [v, m] = s.split('/');
  const value = parseNumber(v);
  const mask = m === undefined ? U32 : parseNumber(m);
  if (value === null || mask === null) return null;
  return { value, mask };
}

/**
 * The xt_MARK semantics: every MARK option is "new = (mark & ~mask) ^ value" (xt_MARK
 * --set-xmark; iptables' libxt_MARK maps --set-mark V/M to V/(M|V), --xor-mark V to V/0,
 * --or-mark V to V/V, --and-mark V to 0/~V). Returns the bits set on every packet and the
 * bits cleared on a packet that had them.
 */
function markEffect(value: number, mask: number): { sets: number | null; clears: number | null } {
  const sets = (value & mask) >>> 0;
  const clears = ((mask ^ value) & U32) >>> 0;
  return { sets: sets === 0 ? null : sets, clears: clears === 0 ? null : clears };
}

// ================================================================== iptables-save

/** Splits an iptables-save rule line like a shell would: double quotes group, backslash
 * escapes (iptables-save quotes comments this way, xtables.c xtables_save_string). */
export function splitRuleWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (c === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (!quoted && /\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

// flannel before its FLANNEL-POSTRTG chain wrote its masquerade rules straight into
// POSTROUTING, without a comment; the one for pod traffic leaving the cluster network is
// recognisable by its multicast exception: "-s POD_CIDR ! -d 224.0.0.0/4 -j MASQUERADE"
// (flannel network/ipmasq.go, later pkg/trafficmngr/iptables).
const OLD_FLANNEL_MASQ = /(^|\s)!\s+-d\s+224\.0\.0\.0\/4(\s|$)/;

function iptablesRole(chain: string, target: string | null = null, line = ''): ChainRole {
  if (chain === 'KUBE-MARK-MASQ') return 'kube-mark-masq';
  if (chain === 'KUBE-POSTROUTING') return 'kube-postrouting';
  if (chain === 'FLANNEL-POSTRTG') return 'flannel';
  if (chain === 'POSTROUTING' && target === 'MASQUERADE' && OLD_FLANNEL_MASQ.test(line)) return 'flannel';
  return 'other';
}

/** One `-A CHAIN ...` line as a NatRule; null for other lines. */
export function parseIptablesRule(line: string): NatRule | null {
  const w = splitRuleWords(line);
  if (w[0] !== '-A' || w.length < 2) return null;
  const chain = w[1];
  let target: string | null = null;
  let targetAt = -1;
  let module: string | null = null;
  let negate = false;
  let markMatch: { value: number; mask: number; negated: boolean } | null = null;
  for (let i = 2; i < w.length; i++) {
    const t = w[i];
    if (t === '!') {
      negate = true;
      continue;
    }
    if (t === '-m' && i + 1 < w.length) module = w[++i];
    else if ((t === '-j' || t === '-g') && i + 1 < w.length && target === null) {
      target = w[++i];
      targetAt = i;
      break;
    } else if (t === '--mark' && module === 'mark' && i + 1 < w.length) {
      const vm = valueMask(w[++i]);
      if (vm) markMatch = { ...vm, negated: negate };
    }
    negate = false;
  }
  const targetArgs = targetAt >= 0 ? w.slice(targetAt + 1) : [];
  const rule: NatRule = {
    chain,
    role: iptablesRole(chain, target, line),
    text: line.trim(),
    masquerade: null,
    returnsIfUnmarked: null,
    returnsIfMarked: null,
    onlyIfMarked: null,
    setsBits: null,
    clearsBits: null,
  };
  // A mark match "--mark M/M" tests that the bits M are all set.
  const testsBits = markMatch !== null && markMatch.value === markMatch.mask && markMatch.mask !== 0 ? markMatch.mask : null;
  if (target === 'RETURN' && testsBits !== null && markMatch !== null) {
    if (markMatch.negated) rule.returnsIfUnmarked = testsBits;
    else rule.returnsIfMarked = testsBits;
  } else if (testsBits !== null && markMatch !== null && !markMatch.negated) {
    rule.onlyIfMarked = testsBits;
  }
  if (target === 'MASQUERADE') {
    // Target options follow -j (libxt_MASQUERADE: --to-ports, --random, --random-fully).
    rule.masquerade = { randomFully: targetArgs.includes('--random-fully'), random: targetArgs.includes('--random') };
  } else if (target === 'MARK') {
    let vm: { value: number; mask: number } | null = null;
    for (let i = 0; i + 1 < targetArgs.length; i++) {
      const opt = targetArgs[i];
      const arg = targetArgs[i + 1];
      const n = parseNumber(arg);
      if (opt === '--set-xmark') vm = valueMask(arg);
      else if (opt === '--set-mark') {
        const x = valueMask(arg);
        vm = x && { value: x.value, mask: (x.mask | x.value) >>> 0 };
      } else if (opt === '--xor-mark' && n !== null) vm = { value: n, mask: 0 };
      else if (opt === '--or-mark' && n !== null) vm = { value: n, mask: n };
      else if (opt === '--and-mark' && n !== null) vm = { value: 0, mask: ~n >>> 0 };
      if (vm) break;
    }
    if (vm) {
      const e = markEffect(vm.value, vm.mask);
      rule.setsBits = e.sets;
      rule.clearsBits = e.clears;
    }
  }
  return rule;
}

/**
 * The nat table of an iptables-save dump (any backend). Lines between "*nat" and its
 * "COMMIT"; chain declarations ":NAME POLICY [p:b]"; rules "-A NAME ...". Other tables
 * are skipped. "# Warning: ..." comments are kept wherever they appear.
 */
export function parseIptablesSave(text: string): ParsedRuleSet {
  const out: ParsedRuleSet = { chains: [], rules: [], warnings: [], hasNatTable: false };
  let table: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) {
      if (/^#\s*Warning:/i.test(line)) out.warnings.push(line);
      continue;
    }
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      if (table === 'nat') out.hasNatTable = true;
      continue;
    }
    if (line === 'COMMIT') {
      table = null;
      continue;
    }
    if (table !== 'nat') continue;
    if (line.startsWith(':')) {
      const name = line.slice(1).split(/\s+/)[0];
      out.chains.push({ name, role: iptablesRole(name), table: 'nat' });
    } else if (line.startsWith('-A ')) {
      const r = parseIptablesRule(line);
      if (r) out.rules.push(r);
    }
  }
  return out;
}

// ================================================================== nft list ruleset

function nftRole(table: string, chain: string): ChainRole {
  if (chain === 'KUBE-MARK-MASQ') return 'kube-mark-masq';
  if (chain === 'KUBE-POSTROUTING') return 'kube-postrouting';
  if (chain === 'FLANNEL-POSTRTG') return 'flannel';
  // kube-proxy's nftables mode (pkg/proxy/nftables/proxier.go): table "kube-proxy",
  // chains "mark-for-masquerade" and "masquerading". flannel's nftables mode
  // (pkg/trafficmngr/nftables): tables "flannel-ipv4"/"flannel-ipv6", chain "postrtg".
  const name = table.split(' ').pop() ?? '';
  if (name === 'kube-proxy' && chain === 'mark-for-masquerade') return 'kube-mark-masq';
  if (name === 'kube-proxy' && chain === 'masquerading') return 'kube-postrouting';
  if (/^flannel-ipv[46]$/.test(name) && chain === 'postrtg') return 'flannel';
  return 'other';
}

const HEX = '(0x[0-9a-f]+|\\d+)';

/**
 * One nft rule statement line as a NatRule. nft prints the same expression in several
 * spellings across versions and origins ("mark and 0x4000", "meta mark & 0x00004000";
 * "mark xor 0x4000", "meta mark ^ 0x00004000"), so the text is normalised first.
 */
export function parseNftRule(table: string, chain: string, line: string): NatRule {
  const text = line.trim();
  const n = text
    .toLowerCase()
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // comments and other strings
    .replace(/\bcounter packets \d+ bytes \d+/g, ' ')
    .replace(/\bcounter\b/g, ' ')
    .replace(/\bct mark\b/g, 'ctmark') // conntrack's mark is another field
    .replace(/\bmeta mark\b/g, 'mark')
    .replace(/\band\b/g, '&')
    .replace(/\bxor\b/g, '^')
    .replace(/\bor\b/g, '|')
    .replace(/\s+/g, ' ')
    .trim();
  let role = nftRole(table, chain);
  // The same old flannel rule as translated by iptables-nft (see OLD_FLANNEL_MASQ).
  if (role === 'other' && chain === 'POSTROUTING' && / daddr != 224\.0\.0\.0\/4 .*masquerade/.test(text)) role = 'flannel';
  const rule: NatRule = {
    chain: `${table} / chain ${chain}`,
    role,
    text,
    masquerade: null,
    returnsIfUnmarked: null,
    returnsIfMarked: null,
    onlyIfMarked: null,
    setsBits: null,
    clearsBits: null,
  };
  const num = (s: string): number => parseNumber(s) ?? 0;
  const isReturn = /(^| )return$/.test(n);
  // mark & M == 0 / mark & M != M: the bits are clear.
  let m = new RegExp(`mark & ${HEX} (==|!=) ${HEX}`).exec(n);
  let lacks: number | null = null;
  let carries: number | null = null;
  if (m) {
    const bits = num(m[1]);
    const v = num(m[3]);
    if (bits !== 0) {
      if ((m[2] === '==' && v === 0) || (m[2] === '!=' && v === bits)) lacks = bits;
      if ((m[2] === '!=' && v === 0) || (m[2] === '==' && v === bits)) carries = bits;
    }
  } else {
    // "mark 0x00004000": the whole mark equals the value (flannel's nftables rule).
    m = new RegExp(`(?:^| )mark ${HEX}(?: |$)`).exec(n);
    if (m && num(m[1]) !== 0) carries = num(m[1]);
  }
  if (isReturn && lacks !== null) rule.returnsIfUnmarked = lacks;
  else if (isReturn && carries !== null) rule.returnsIfMarked = carries;
  else if (carries !== null) rule.onlyIfMarked = carries;
  // mark set mark ^ M / | M / & M, or mark set M.
  const set = new RegExp(`mark set (?:mark ([&|^]) ${HEX}|${HEX})(?: |$)`).exec(n);
  if (set) {
    let vm: { value: number; mask: number };
    if (set[3] !== undefined) vm = { value: num(set[3]), mask: U32 };
    else if (set[1] === '^') vm = { value: num(set[2]), mask: 0 };
    else if (set[1] === '|') vm = { value: num(set[2]), mask: num(set[2]) };
    else vm = { value: 0, mask: ~num(set[2]) >>> 0 };
    const e = markEffect(vm.value, vm.mask);
    rule.setsBits = e.sets;
    rule.clearsBits = e.clears;
  }
  const mq = /(?:^| )masquerade(?: (.*))?$/.exec(n);
  if (mq) {
    // Flags after the optional "to :PORTS": "random", "fully-random", "persistent",
    // comma-separated (nft's nf_nat_flags printing).
    const flags = new Set((mq[1] ?? '').split(/[\s,]+/));
    rule.masquerade = { randomFully: flags.has('fully-random'), random: flags.has('random') };
  }
  return rule;
}

/**
 * The output of `nft list ruleset`: tables, chains and their rules. Named sets, maps,
 * flowtables and their (possibly multi-line) element lists are skipped by brace depth;
 * chain properties (type/hook/policy, comment, devices) are not rules. Every table is
 * read (kube-proxy's and flannel's nftables modes have their own tables; iptables-nft
 * rules show up under "table ip nat").
 */
export function parseNftRuleset(text: string): ParsedRuleSet {
  const out: ParsedRuleSet = { chains: [], rules: [], warnings: [], hasNatTable: false };
  let depth = 0;
  let table: string | null = null;
  let chain: string | null = null;
  let pending = ''; // a rule continued over lines (an anonymous set broken up)
  const braces = (s: string): number => {
    const t = s.replace(/"(?:[^"\\]|\\.)*"/g, '');
    return (t.match(/{/g)?.length ?? 0) - (t.match(/}/g)?.length ?? 0);
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (/^#\s*Warning:/i.test(line)) out.warnings.push(line);
      continue;
    }
    if (pending !== '') {
      pending += ' ' + line;
      depth += braces(line);
      if (depth === 2 && table !== null && chain !== null) {
        out.rules.push(parseNftRule(table, chain, pending));
        pending = '';
      }
      continue;
    }
    const delta = braces(line);
    if (depth === 0) {
      const t = /^table\s+(\S+)\s+(\S+)\s*{/.exec(line);
      if (t) {
        table = `table ${t[1]} ${t[2]}`;
        if (t[2] === 'nat' || t[2] === 'kube-proxy' || /^flannel-ipv[46]$/.test(t[2])) out.hasNatTable = true;
      }
    } else if (depth === 1) {
      const c = /^chain\s+(\S+)\s*{/.exec(line);
      if (c && table !== null) {
        chain = c[1].replace(/^"|"$/g, '');
        out.chains.push({ name: chain, role: nftRole(table, chain), table });
      } else chain = null; // a set, map, flowtable or a table property
    } else if (depth === 2 && chain !== null && table !== null) {
      // "}" closes the chain; the rest are chain properties, not rules.
      const property = /^(}|type\s+\S+\s+hook\b|policy\b|comment\b|devices\s*=)/.test(line);
      if (!property) {
        if (delta > 0) {
          pending = line;
          depth += delta;
          continue;
        }
        out.rules.push(parseNftRule(table, chain, line));
      }
    }
    depth += delta;
    if (depth < 0) depth = 0;
    if (depth === 0) {
      table = null;
      chain = null;
    } else if (depth === 1) chain = null;
  }
  return out;
}

// ================================================================== analysis

/** What a parsed rule set says about variant A. Pure. */
export function analyzeRuleSet(set: ParsedRuleSet): NatRulesAnalysis {
  const masquerades: MasqueradeRule[] = set.rules
    .filter((r) => r.masquerade !== null)
    .map((r) => ({ chain: r.chain, randomFully: r.masquerade?.randomFully ?? false, random: r.masquerade?.random ?? false, rule: r.text }));
  const byRole = (role: ChainRole): NatRule[] => set.rules.filter((r) => r.role === role);
  const hasChain = (role: ChainRole): boolean => set.chains.some((c) => c.role === role);

  const markRules = byRole('kube-mark-masq');
  // kube-proxy's nftables mode since kubernetes/kubernetes#135800 sets the mark inline
  // in its service chains, without a mark-for-masquerade chain.
  const inlineMark = set.rules.find((r) => r.role === 'other' && /kube-proxy$/.test(r.chain.split(' / ')[0]) && r.setsBits !== null);
  const masqueradeMark = markRules.find((r) => r.setsBits !== null)?.setsBits ?? inlineMark?.setsBits ?? null;

  // kubernetes/kubernetes#92035, in rule order: a RETURN for packets without the mark,
  // then the mark cleared (XOR), then MASQUERADE. The nftables mode writes the same as one
  // rule "mark & M != 0 mark set mark ^ M masquerade fully-random" (#135800).
  const post = byRole('kube-postrouting');
  const firstMasq = post.findIndex((r) => r.masquerade !== null);
  let kubeMarkFix = false;
  if (firstMasq >= 0) {
    for (let i = 0; i <= firstMasq && !kubeMarkFix; i++) {
      const r = post[i];
      if (r.clearsBits === null) continue;
      const bit = masqueradeMark ?? r.clearsBits;
      if ((r.clearsBits & bit) !== bit) continue;
      const guardedInline = r.onlyIfMarked !== null && (r.onlyIfMarked & bit) === bit;
      const guardedBefore = post.slice(0, i).some((g) => g.returnsIfUnmarked !== null && (g.returnsIfUnmarked & bit) === bit);
      kubeMarkFix = guardedInline || guardedBefore;
    }
  }
  const postMasq = post.filter((r) => r.masquerade !== null);

  const flannel = byRole('flannel');
  const flannelMasq = hasChain('flannel') || flannel.length > 0;
  const flannelMasqRules = flannel.filter((r) => r.masquerade !== null);
  const flannelFirstMasq = flannel.findIndex((r) => r.masquerade !== null);
  const kubeBit = masqueradeMark ?? 0x4000; // flannel's KubeProxyMark: "0x4000/0x4000"
  const flannelSkips = flannel
    .slice(0, flannelFirstMasq < 0 ? flannel.length : flannelFirstMasq)
    .some((r) => r.returnsIfMarked !== null && (r.returnsIfMarked & kubeBit) === kubeBit);

  return {
    masquerades,
    masqueradeRandomFully: masquerades.some((m) => m.randomFully),
    kubeMarkMasq: hasChain('kube-mark-masq') || inlineMark !== undefined,
    masqueradeMark,
    kubePostrouting: hasChain('kube-postrouting'),
    kubeMarkFix,
    kubeMasqueradeRandomFully: postMasq.length === 0 ? null : postMasq.some((r) => r.masquerade?.randomFully === true),
    flannelMasq,
    flannelSkipsKubeMarked: flannelMasq ? flannelSkips : null,
    flannelRandomFully: flannelMasqRules.length === 0 ? null : flannelMasqRules.some((r) => r.masquerade?.randomFully === true),
    warnings: set.warnings,
  };
}

// ================================================================== running the tools

export const NAT_SOURCES: readonly NatSourceName[] = ['iptables-save', 'iptables-legacy-save', 'iptables-nft-save', 'nft'];

export interface NatReadOptions {
  /** Directories searched for the tools and for ip / nsenter. Default: $PATH, then
   * /usr/sbin, /sbin, /usr/local/sbin, /usr/bin, /bin (a non-root PATH often lacks sbin). */
  searchPath?: string[];
  /** Per tool; default 15 s (a large cluster's rule set takes a few seconds to dump). */
  timeoutMs?: number;
  sources?: readonly NatSourceName[];
}

function defaultSearchPath(): string[] {
  const env = (process.env.PATH ?? '').split(':').filter((d) => d.length > 0);
  return [...new Set([...env, '/usr/sbin', '/sbin', '/usr/local/sbin', '/usr/bin', '/bin'])];
}

/** The first executable `name` in `dirs`, or null. */
export function findTool(name: string, dirs: readonly string[]): string | null {
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** The xtables backend a *-save binary belongs to: from its header line ("(nf_tables)"),
 * else from where the symlinks lead (xtables-nft-multi / xtables-legacy-multi; the
 * iptables 1.4/1.6 multi binaries are legacy). */
function xtablesBackend(source: NatSourceName, tool: string, output: string): 'legacy' | 'nf_tables' | null {
  if (source === 'iptables-legacy-save') return 'legacy';
  if (source === 'iptables-nft-save') return 'nf_tables';
  const header = /^# Generated by .*$/m.exec(output)?.[0];
  if (header !== undefined && header.includes('(nf_tables)')) return 'nf_tables';
  let real = tool;
  try {
    real = fs.realpathSync(tool);
  } catch {
    // keep the name
  }
  const base = path.basename(real);
  if (/nft/.test(base)) return 'nf_tables';
  if (/legacy|^(ip|x)tables-multi$|^iptables-save$/.test(base)) return 'legacy';
  return null;
}

interface RunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  reason: string | null;
}

function runTool(file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 512 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ ok: true, stdout, stderr, reason: null });
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number | null; signal?: string | null };
        const firstLines = stderr.trim().split('\n').slice(0, 3).join(' | ');
        let reason: string;
        if (e.killed === true || e.signal === 'SIGKILL') reason = `timed out after ${timeoutMs} ms`;
        else if (e.code === 'ENOENT') reason = `${file} not found`;
        else if (e.code === 'EACCES') reason = `${file} is not executable`;
        else if (typeof e.code === 'string' && e.code.startsWith('ERR_CHILD_PROCESS_STDIO_MAXBUFFER')) reason = 'output larger than 512 MiB';
        else reason = `exit status ${String(e.code)}${firstLines ? `: ${firstLines}` : ''}`;
        resolve({ ok: false, stdout, stderr, reason });
      },
    );
  });
}

function warningLines(s: string): string[] {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^#\s*Warning:/i.test(l));
}

/**
 * The NAT facts of network namespace `ns` (a NAME under /run/netns, or a path such as
 * /proc/PID/ns/net; the current namespace when absent): every source, each 'ok' with its
 * analysis or 'unavailable' with the reason. Never throws for a missing or failing tool,
 * nor for a namespace that does not exist (every source is then unavailable).
 */
export async function readNatFacts(ns?: string, opts: NatReadOptions = {}): Promise<NatFacts> {
  const dirs = opts.searchPath ?? defaultSearchPath();
  const timeoutMs = opts.timeoutMs ?? 15000;
  const sources = opts.sources ?? NAT_SOURCES;
  const unavailable = (source: NatSourceName, reason: string): NatSourceReport => ({ source, status: 'unavailable', reason, backend: null, analysis: null });

  // How to get into the namespace: argv prefix, or the reason we cannot.
  let prefix: string[] = [];
  let launcher: string | null = null;
  let nsProblem: string | null = null;
  if (ns !== undefined) {
    let nsPath: string;
    try {
      nsPath = resolveNetns(ns);
    } catch (e) {
      nsPath = '';
      nsProblem = (e as Error).message;
    }
    if (nsProblem === null && !fs.existsSync(nsPath)) nsProblem = `no such network namespace: ${ns} (${nsPath})`;
    if (nsProblem === null) {
      if (!ns.includes('/')) {
        // ip netns exec NAME: iproute2 ip/ipnetns.c, setns to /run/netns/NAME.
        launcher = findTool('ip', dirs);
        if (launcher === null) nsProblem = 'ip (iproute2) not found: needed to run the tool in namespace ' + ns;
        prefix = ['netns', 'exec', ns];
      } else {
        // nsenter --net=PATH (util-linux) for /proc/PID/ns/net and other paths.
        launcher = findTool('nsenter', dirs);
        if (launcher === null) nsProblem = 'nsenter (util-linux) not found: needed to run the tool in namespace ' + ns;
        prefix = [`--net=${nsPath}`, '--'];
      }
    }
  }

  const one = async (source: NatSourceName): Promise<NatSourceReport> => {
    const toolName = source === 'nft' ? 'nft' : source;
    const tool = findTool(toolName, dirs);
    if (tool === null) return unavailable(source, `${toolName} not found in ${dirs.join(':')}`);
    if (nsProblem !== null) return unavailable(source, nsProblem);
    const args = source === 'nft' ? ['list', 'ruleset'] : [];
    const r = launcher === null ? await runTool(tool, args, timeoutMs) : await runTool(launcher, [...prefix, tool, ...args], timeoutMs);
    if (!r.ok) return unavailable(source, `${toolName}: ${r.reason ?? 'failed'}`);
    const parsed = source === 'nft' ? parseNftRuleset(r.stdout) : parseIptablesSave(r.stdout);
    for (const w of warningLines(r.stderr)) if (!parsed.warnings.includes(w)) parsed.warnings.push(w);
    return {
      source,
      status: 'ok',
      reason: null,
      backend: source === 'nft' ? null : xtablesBackend(source, tool, r.stdout),
      analysis: analyzeRuleSet(parsed),
    };
  };

  return { netns: ns ?? null, sources: await Promise.all(sources.map(one)) };
}
