/**
 * kube-proxy / flannel NAT facts (src/host/nat-rules.ts).
 *
 * 1. The pure parsers on the rule sets of test/unit/samples/nat-samples.ts: kube-proxy
 *    before and after kubernetes/kubernetes#92035, with and without --random-fully, a
 *    custom masquerade bit, a wrong rule order; flannel's old POSTROUTING rules, its
 *    FLANNEL-POSTRTG chain before and after flannel-io/flannel#1681; kube-proxy's and
 *    flannel's nftables modes; iptables-nft's translation as nft prints it.
 * 2. The samples are real: each is loaded into a fresh namespace with iptables-restore
 *    (or iptables-legacy-restore, or nft -f) and read back with readNatFacts(), which must
 *    find the same facts through every tool that sees the rules.
 * 3. Rules built one `iptables` command at a time in a namespace: the verdict flips when
 *    the #92035 rules are added.
 * 4. Missing, failing and hanging tools and a missing namespace are 'unavailable' with a
 *    reason, never an exception.
 *
 * Parts 2 and 3 need root; without it they fail and say so.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { NatRulesAnalysis, NatSourceName } from '../../src/model/host-facts.js';
import {
  analyzeRuleSet,
  findTool,
  parseIptablesRule,
  parseIptablesSave,
  parseNftRule,
  parseNftRuleset,
  readNatFacts,
  splitRuleWords,
} from '../../src/host/nat-rules.js';
import * as S from './samples/nat-samples.js';

/** What readNatFacts() makes of one tool's output: its parser, then the one analysis. */
const analyzeIptablesSave = (text: string): NatRulesAnalysis => analyzeRuleSet(parseIptablesSave(text));
const analyzeNftRuleset = (text: string): NatRulesAnalysis => analyzeRuleSet(parseNftRuleset(text));

/** The facts without rule texts and warnings: what must agree between tools. */
type Summary = Omit<NatRulesAnalysis, 'masquerades' | 'warnings'> & {
  masquerades: Array<{ randomFully: boolean; random: boolean }>;
};

function summary(a: NatRulesAnalysis): Summary {
  const { masquerades, warnings: _w, ...rest } = a;
  return {
    ...rest,
    masquerades: masquerades
      .map((m) => ({ randomFully: m.randomFully, random: m.random }))
      .sort((x, y) => Number(x.randomFully) - Number(y.randomFully) || Number(x.random) - Number(y.random)),
  };
}

type Expect = Omit<Summary, 'masquerades'> & { masqueradeCount: number };

const NONE: Expect = {
  masqueradeCount: 0,
  masqueradeRandomFully: false,
  kubeMarkMasq: false,
  masqueradeMark: null,
  kubePostrouting: false,
  kubeMarkFix: false,
  kubeMasqueradeRandomFully: null,
  flannelMasq: false,
  flannelSkipsKubeMarked: null,
  flannelRandomFully: null,
};
const KUBE = { kubeMarkMasq: true, masqueradeMark: 0x4000, kubePostrouting: true };

const IPTABLES_SAMPLES: Record<string, { text: string; want: Expect }> = {
  KUBE_1_15_FLANNEL_0_11: {
    text: S.KUBE_1_15_FLANNEL_0_11,
    // docker's, flannel's two, kube-proxy's
    want: {
      ...NONE,
      ...KUBE,
      masqueradeCount: 4,
      kubeMasqueradeRandomFully: false,
      flannelMasq: true,
      flannelSkipsKubeMarked: false,
      flannelRandomFully: false,
    },
  },
  KUBE_1_18_3_FLANNEL_0_12: {
    text: S.KUBE_1_18_3_FLANNEL_0_12,
    want: {
      ...NONE,
      ...KUBE,
      masqueradeCount: 4,
      masqueradeRandomFully: true,
      kubeMasqueradeRandomFully: true,
      flannelMasq: true,
      flannelSkipsKubeMarked: false,
      flannelRandomFully: true,
    },
  },
  KUBE_1_19_FLANNEL_0_20: {
    text: S.KUBE_1_19_FLANNEL_0_20,
    want: {
      ...NONE,
      ...KUBE,
      masqueradeCount: 4,
      masqueradeRandomFully: true,
      kubeMarkFix: true,
      kubeMasqueradeRandomFully: true,
      flannelMasq: true,
      flannelSkipsKubeMarked: true,
      flannelRandomFully: true,
    },
  },
  KUBE_1_19_NO_RANDOM_FULLY: {
    text: S.KUBE_1_19_NO_RANDOM_FULLY,
    want: {
      ...NONE,
      ...KUBE,
      masqueradeCount: 4,
      kubeMarkFix: true,
      kubeMasqueradeRandomFully: false,
      flannelMasq: true,
      flannelSkipsKubeMarked: false,
      flannelRandomFully: false,
    },
  },
  KUBE_MASQ_BIT_13: {
    text: S.KUBE_MASQ_BIT_13,
    want: { ...NONE, ...KUBE, masqueradeMark: 0x2000, masqueradeCount: 2, masqueradeRandomFully: true, kubeMarkFix: true, kubeMasqueradeRandomFully: true },
  },
  KUBE_FIX_WRONG_ORDER: {
    text: S.KUBE_FIX_WRONG_ORDER,
    want: { ...NONE, ...KUBE, masqueradeCount: 2, masqueradeRandomFully: true, kubeMarkFix: false, kubeMasqueradeRandomFully: true },
  },
  FILTER_ONLY: { text: S.FILTER_ONLY, want: NONE },
};

const NFT_SAMPLES: Record<string, { text: string; want: Expect }> = {
  NFT_KUBE_PROXY: {
    text: S.NFT_KUBE_PROXY,
    want: { ...NONE, ...KUBE, masqueradeCount: 1, masqueradeRandomFully: true, kubeMarkFix: true, kubeMasqueradeRandomFully: true },
  },
  NFT_KUBE_PROXY_ONE_RULE: {
    text: S.NFT_KUBE_PROXY_ONE_RULE,
    want: { ...NONE, ...KUBE, masqueradeCount: 1, masqueradeRandomFully: true, kubeMarkFix: true, kubeMasqueradeRandomFully: true },
  },
  NFT_FLANNEL: {
    text: S.NFT_FLANNEL,
    want: { ...NONE, masqueradeCount: 2, masqueradeRandomFully: true, flannelMasq: true, flannelSkipsKubeMarked: true, flannelRandomFully: true },
  },
  NFT_IPTABLES_NFT_1_18_3: {
    text: S.NFT_IPTABLES_NFT_1_18_3,
    want: { ...NONE, ...KUBE, masqueradeCount: 1, masqueradeRandomFully: true, kubeMasqueradeRandomFully: true },
  },
  NFT_IPTABLES_NFT_1_19: {
    text: S.NFT_IPTABLES_NFT_1_19,
    want: {
      ...NONE,
      ...KUBE,
      masqueradeCount: 2,
      masqueradeRandomFully: true,
      kubeMarkFix: true,
      kubeMasqueradeRandomFully: true,
      flannelMasq: true,
      flannelSkipsKubeMarked: true,
      flannelRandomFully: true,
    },
  },
};

function check(a: NatRulesAnalysis, want: Expect, what: string): void {
  const { masqueradeCount, ...fields } = want;
  const { masquerades, ...got } = summary(a);
  assert.deepEqual(got, fields, what);
  assert.equal(masquerades.length, masqueradeCount, `${what}: MASQUERADE rules`);
}

// ------------------------------------------------------------------ parsers

describe('NAT rule parsers on samples', () => {
  for (const [name, s] of Object.entries(IPTABLES_SAMPLES)) {
    test(`iptables-save ${name}`, () => check(analyzeIptablesSave(s.text), s.want, name));
  }
  for (const [name, s] of Object.entries(NFT_SAMPLES)) {
    test(`nft ${name}`, () => check(analyzeNftRuleset(s.text), s.want, name));
  }

  test('only the nat table of an iptables-save dump is read', () => {
    const p = parseIptablesSave(S.KUBE_1_19_FLANNEL_0_20);
    assert.ok(p.hasNatTable);
    assert.ok(p.chains.some((c) => c.name === 'KUBE-SERVICES'));
    assert.ok(!p.chains.some((c) => c.name === 'KUBE-FORWARD'), 'filter chains are not nat chains');
    assert.ok(!p.rules.some((r) => r.chain === 'KUBE-FIREWALL'));
    assert.equal(parseIptablesSave(S.FILTER_ONLY).hasNatTable, false);
  });

  test('the masquerade rule texts and chains are reported', () => {
    const a = analyzeIptablesSave(S.KUBE_1_19_FLANNEL_0_20);
    const kube = a.masquerades.find((m) => m.chain === 'KUBE-POSTROUTING');
    assert.ok(kube);
    assert.equal(kube.rule, '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
    assert.equal(kube.randomFully, true);
    const docker = a.masquerades.find((m) => m.rule.includes('172.17.0.0/16'));
    assert.deepEqual(docker && { chain: docker.chain, randomFully: docker.randomFully }, { chain: 'POSTROUTING', randomFully: false });
  });

  test('warnings the tools print are kept', () => {
    const a = analyzeIptablesSave(`# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n${S.KUBE_1_19_FLANNEL_0_20}`);
    assert.deepEqual(a.warnings, ['# Warning: iptables-legacy tables present, use iptables-legacy-save to see them']);
    assert.deepEqual(analyzeNftRuleset(S.NFT_IPTABLES_NFT_1_19).warnings, ['# Warning: table ip nat is managed by iptables-nft, do not touch!']);
  });

  test('rule words: quotes and escapes as iptables-save writes them', () => {
    assert.deepEqual(splitRuleWords('-A X -m comment --comment "a \\"quoted\\" b" -j RETURN'), [
      '-A',
      'X',
      '-m',
      'comment',
      '--comment',
      'a "quoted" b',
      '-j',
      'RETURN',
    ]);
    assert.deepEqual(splitRuleWords('-A X --comment ""  -j  ACCEPT'), ['-A', 'X', '--comment', '', '-j', 'ACCEPT']);
  });

  test('every MARK spelling has the xt_MARK effect', () => {
    const eff = (args: string): { sets: number | null; clears: number | null } => {
      const r = parseIptablesRule(`-A KUBE-POSTROUTING -j MARK ${args}`);
      assert.ok(r);
      return { sets: r.setsBits, clears: r.clearsBits };
    };
    assert.deepEqual(eff('--set-xmark 0x4000/0x0'), { sets: null, clears: 0x4000 }, 'XOR: what iptables-save prints for --xor-mark');
    assert.deepEqual(eff('--xor-mark 0x4000'), { sets: null, clears: 0x4000 });
    assert.deepEqual(eff('--set-xmark 0x4000/0x4000'), { sets: 0x4000, clears: null }, 'what iptables-save prints for --or-mark');
    assert.deepEqual(eff('--or-mark 0x4000'), { sets: 0x4000, clears: null });
    assert.deepEqual(eff('--and-mark 0xffffbfff'), { sets: null, clears: 0x4000 });
    assert.deepEqual(eff('--set-mark 0x4000/0x4000'), { sets: 0x4000, clears: null });
    assert.equal(eff('--set-xmark 0x0/0x4000').clears, 0x4000, 'zeroing the bit clears it');
  });

  test('mark matches: negation, other modules, MASQUERADE options only after -j', () => {
    const guard = parseIptablesRule('-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN');
    assert.equal(guard?.returnsIfUnmarked, 0x4000);
    assert.equal(guard?.returnsIfMarked, null);
    const fl = parseIptablesRule('-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN');
    assert.equal(fl?.returnsIfMarked, 0x4000);
    const conn = parseIptablesRule('-A KUBE-POSTROUTING -m connmark ! --mark 0x4000/0x4000 -j RETURN');
    assert.equal(conn?.returnsIfUnmarked, null, 'connmark --mark is the connection mark');
    const stat = parseIptablesRule('-A KUBE-SVC-X -m statistic --mode random --probability 0.5 -j KUBE-SEP-Y');
    assert.equal(stat?.masquerade, null);
    const both = parseIptablesRule('-A POSTROUTING -p udp -j MASQUERADE --to-ports 1024-65535 --random');
    assert.deepEqual(both?.masquerade, { randomFully: false, random: true });
  });

  test('nft spellings of the same expressions', () => {
    const a = parseNftRule('table ip nat', 'KUBE-POSTROUTING', 'meta mark & 0x00004000 != 0x00004000 counter packets 3 bytes 180 return');
    const b = parseNftRule('table ip kube-proxy', 'masquerading', 'mark and 0x4000 == 0 return');
    assert.equal(a.returnsIfUnmarked, 0x4000);
    assert.equal(b.returnsIfUnmarked, 0x4000);
    assert.equal(b.role, 'kube-postrouting');
    assert.equal(parseNftRule('table ip nat', 'X', 'counter packets 0 bytes 0 meta mark set mark xor 0x4000').clearsBits, 0x4000);
    assert.equal(parseNftRule('table ip nat', 'X', 'meta mark set meta mark ^ 0x00004000').clearsBits, 0x4000);
    assert.equal(parseNftRule('table ip nat', 'X', 'meta mark set meta mark | 0x00004000').setsBits, 0x4000);
    assert.equal(parseNftRule('table ip nat', 'X', 'meta mark set mark and 0xffffbfff').clearsBits, 0x4000);
    assert.equal(parseNftRule('table ip nat', 'X', 'ct mark 0x00004000 return').returnsIfMarked, null, 'ct mark is not the packet mark');
    assert.deepEqual(parseNftRule('table ip nat', 'X', 'masquerade random,fully-random').masquerade, { randomFully: true, random: true });
    assert.deepEqual(parseNftRule('table ip nat', 'X', 'meta l4proto udp masquerade to :1024-65535 random,persistent').masquerade, {
      randomFully: false,
      random: true,
    });
    assert.deepEqual(parseNftRule('table ip nat', 'X', 'masquerade').masquerade, { randomFully: false, random: false });
    assert.equal(parseNftRule('table ip nat', 'X', 'jump masquerading').masquerade, null);
    assert.equal(parseNftRule('table ip nat', 'X', 'numgen random mod 2 vmap { 0 : goto a, 1 : goto b }').masquerade, null);
    assert.equal(
      parseNftRule('table ip nat', 'X', 'ip saddr 1.2.3.4 comment "do not masquerade fully-random" accept').masquerade,
      null,
      'strings are not statements',
    );
  });

  test('nft: sets, maps and chain properties are not rules; multi-line elements are skipped', () => {
    const p = parseNftRuleset(S.NFT_KUBE_PROXY);
    assert.ok(p.chains.some((c) => c.name === 'masquerading' && c.role === 'kube-postrouting'));
    assert.ok(!p.chains.some((c) => c.name === 'cluster-ips' || c.name === 'service-ips'), 'sets and maps are not chains');
    assert.ok(!p.rules.some((r) => /elements|type ipv4_addr|hook/.test(r.text)));
    const masq = p.rules.filter((r) => r.chain === 'table ip kube-proxy / chain masquerading');
    assert.equal(masq.length, 3);
    assert.equal(p.rules.filter((r) => r.text.startsWith('numgen random')).length, 2, 'a rule with an inline vmap is one rule');
    assert.deepEqual(parseNftRuleset('').rules, []);
  });

  test('a multi-line anonymous set inside a rule is one rule', () => {
    const p = parseNftRuleset(
      'table ip nat {\n\tchain POSTROUTING {\n\t\tip daddr {\n\t\t\t10.0.0.1,\n\t\t\t10.0.0.2 } masquerade fully-random\n\t\treturn\n\t}\n}\n',
    );
    assert.equal(p.rules.length, 2);
    assert.deepEqual(p.rules[0].masquerade, { randomFully: true, random: false });
  });
});

// ------------------------------------------------------------------ tools and namespaces

const PREFIX = `csumtop-nat${process.pid}`;
const created = new Set<string>();

/** Deletes every namespace created so far (each once); runs after each suite and at exit. */
function cleanup(): void {
  for (const ns of created) spawnSync('ip', ['netns', 'del', ns]);
  created.clear();
}
process.on('exit', cleanup);

function newNs(tag: string): string {
  const ns = `${PREFIX}-${tag}`;
  spawnSync('ip', ['netns', 'del', ns]);
  execFileSync('ip', ['netns', 'add', ns]);
  created.add(ns);
  return ns;
}

function inNs(ns: string, cmd: string, args: string[], input?: string): void {
  const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${ns} failed (${String(r.status)}): ${r.stderr}`);
}

function requireRoot(file: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(`${file} needs root for its namespace part (ip netns, iptables, nft). Run it as root (CI does).`);
  }
}

function requireTools(names: string[]): void {
  const dirs = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin'];
  const missing = names.filter((n) => findTool(n, dirs) === null);
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: apt-get install -y iptables nftables`);
}

async function source(ns: string, name: NatSourceName): Promise<NatRulesAnalysis> {
  const f = await readNatFacts(ns, { sources: [name] });
  assert.equal(f.netns, ns);
  const s = f.sources[0];
  assert.equal(s.source, name);
  assert.equal(s.status, 'ok', `${name} in ${ns}: ${String(s.reason)}`);
  assert.ok(s.analysis);
  return s.analysis;
}

describe('samples loaded into namespaces read back the same', () => {
  before(() => {
    requireRoot('test/unit/nat-rules.test.ts');
    requireTools(['iptables-restore', 'iptables-legacy-restore', 'iptables-save', 'iptables-nft-save', 'iptables-legacy-save', 'nft']);
  });
  after(cleanup);

  for (const [name, s] of Object.entries(IPTABLES_SAMPLES)) {
    test(`${name} through iptables-restore: iptables-save, iptables-nft-save and nft agree with the sample`, async () => {
      const ns = newNs(name.toLowerCase().replace(/_/g, '').slice(0, 12));
      inNs(ns, 'iptables-nft-restore', [], s.text);
      const want = summary(analyzeIptablesSave(s.text));
      const f = await readNatFacts(ns);
      const by = new Map(f.sources.map((x) => [x.source, x]));
      for (const src of ['iptables-save', 'iptables-nft-save', 'nft'] as const) {
        const r = by.get(src);
        assert.equal(r?.status, 'ok', `${src}: ${String(r?.reason)}`);
        assert.ok(r?.analysis);
        assert.deepEqual(summary(r.analysis), want, `${src} in ${ns}`);
      }
      assert.equal(by.get('iptables-nft-save')?.backend, 'nf_tables');
      const legacy = by.get('iptables-legacy-save');
      assert.equal(legacy?.status, 'ok');
      assert.deepEqual(legacy?.analysis && summary(legacy.analysis), summary(analyzeIptablesSave('')), 'no legacy rules');
      assert.equal(legacy?.backend, 'legacy');
    });
  }

  test('legacy backend: rules restored with iptables-legacy-restore are seen only by iptables-legacy-save, and the nft tools warn', async () => {
    const ns = newNs('legacy');
    inNs(ns, 'iptables-legacy-restore', [], S.KUBE_1_18_3_FLANNEL_0_12);
    const f = await readNatFacts(ns);
    const by = new Map(f.sources.map((x) => [x.source, x]));
    const legacy = by.get('iptables-legacy-save');
    assert.ok(legacy?.analysis, String(legacy?.reason));
    assert.deepEqual(summary(legacy.analysis), summary(analyzeIptablesSave(S.KUBE_1_18_3_FLANNEL_0_12)));
    const nftSave = by.get('iptables-nft-save');
    assert.ok(nftSave?.analysis);
    assert.equal(nftSave.analysis.kubePostrouting, false);
    assert.ok(
      nftSave.analysis.warnings.some((w) => /iptables-legacy tables present/.test(w)),
      JSON.stringify(nftSave.analysis.warnings),
    );
  });

  test('reading does not create a legacy nat table in a namespace that has none', async () => {
    const ns = newNs('noside');
    await readNatFacts(ns);
    const names = execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/ip_tables_names'], { encoding: 'utf8' });
    assert.equal(names.trim(), '', `tables appeared: ${names}`);
    const ruleset = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset'], { encoding: 'utf8' });
    assert.equal(ruleset.trim(), '');
  });

  for (const [name, s] of Object.entries(NFT_SAMPLES)) {
    test(`${name} through nft -f: nft list ruleset agrees with the sample`, async () => {
      const ns = newNs(name.toLowerCase().replace(/_/g, '').slice(0, 12));
      inNs(ns, 'nft', ['-f', '-'], s.text.replace(/^# Warning:.*\n/m, ''));
      assert.deepEqual(summary(await source(ns, 'nft')), summary(analyzeNftRuleset(s.text)));
    });
  }

  test('namespace by path (nsenter) and by name (ip netns exec) give the same facts', async () => {
    const ns = newNs('bypath');
    inNs(ns, 'iptables-nft-restore', [], S.KUBE_1_19_FLANNEL_0_20);
    const byName = await readNatFacts(ns, { sources: ['iptables-save', 'nft'] });
    const byPath = await readNatFacts(`/run/netns/${ns}`, { sources: ['iptables-save', 'nft'] });
    assert.deepEqual(byPath.sources, byName.sources);
    assert.equal(byPath.sources[0].analysis?.kubeMarkFix, true);
  });
});

describe('kube-proxy rules built with iptables in a namespace', () => {
  before(() => {
    requireRoot('test/unit/nat-rules.test.ts');
    requireTools(['iptables', 'iptables-save', 'nft']);
  });
  after(cleanup);

  test('the verdict follows the rules: pre-#92035, then with the fix, then flannel with #1681', async () => {
    const ns = newNs('live');
    const ipt = (...args: string[]): void => inNs(ns, 'iptables', ['-t', 'nat', ...args]);
    // kube-proxy 1.18.3 (pkg/proxy/iptables/proxier.go before #92035)
    ipt('-N', 'KUBE-MARK-MASQ');
    ipt('-N', 'KUBE-POSTROUTING');
    ipt('-A', 'KUBE-MARK-MASQ', '-j', 'MARK', '--or-mark', '0x4000');
    ipt('-A', 'POSTROUTING', '-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING');
    ipt(
      '-A',
      'KUBE-POSTROUTING',
      '-m',
      'comment',
      '--comment',
      'kubernetes service traffic requiring SNAT',
      '-m',
      'mark',
      '--mark',
      '0x4000/0x4000',
      '-j',
      'MASQUERADE',
      '--random-fully',
    );
    for (const src of ['iptables-save', 'nft'] as const) {
      const a = await source(ns, src);
      assert.equal(a.kubeMarkMasq, true, src);
      assert.equal(a.masqueradeMark, 0x4000, src);
      assert.equal(a.kubeMarkFix, false, `${src}: before #92035`);
      assert.equal(a.kubeMasqueradeRandomFully, true, src);
      assert.equal(a.flannelMasq, false, src);
    }

    // kubernetes/kubernetes#92035: what kube-proxy >= 1.19 writes instead.
    ipt('-F', 'KUBE-POSTROUTING');
    ipt('-A', 'KUBE-POSTROUTING', '-m', 'mark', '!', '--mark', '0x4000/0x4000', '-j', 'RETURN');
    ipt('-A', 'KUBE-POSTROUTING', '-j', 'MARK', '--xor-mark', '0x4000');
    ipt('-A', 'KUBE-POSTROUTING', '-m', 'comment', '--comment', 'kubernetes service traffic requiring SNAT', '-j', 'MASQUERADE', '--random-fully');
    for (const src of ['iptables-save', 'nft'] as const) {
      const a = await source(ns, src);
      assert.equal(a.kubeMarkFix, true, `${src}: with #92035`);
      assert.equal(a.masqueradeRandomFully, true, src);
    }

    // flannel's chain, first without, then with the flannel-io/flannel#1681 RETURN.
    ipt('-N', 'FLANNEL-POSTRTG');
    ipt('-A', 'POSTROUTING', '-m', 'comment', '--comment', 'flanneld masq', '-j', 'FLANNEL-POSTRTG');
    ipt('-A', 'FLANNEL-POSTRTG', '-s', '10.244.0.0/16', '!', '-d', '224.0.0.0/4', '-m', 'comment', '--comment', 'flanneld masq', '-j', 'MASQUERADE');
    let a = await source(ns, 'iptables-save');
    assert.equal(a.flannelMasq, true);
    assert.equal(a.flannelSkipsKubeMarked, false);
    assert.equal(a.flannelRandomFully, false);
    ipt('-I', 'FLANNEL-POSTRTG', '1', '-m', 'mark', '--mark', '0x4000/0x4000', '-m', 'comment', '--comment', 'flanneld masq', '-j', 'RETURN');
    a = await source(ns, 'iptables-save');
    assert.equal(a.flannelSkipsKubeMarked, true);
    assert.equal((await source(ns, 'nft')).flannelSkipsKubeMarked, true);
  });
});

describe('unavailable sources', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-nat-'));
    fs.mkdirSync(path.join(dir, 'empty'));
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const script = (name: string, body: string): void => {
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    };
    fs.writeFileSync(path.join(dir, 'sample'), S.KUBE_1_19_FLANNEL_0_20);
    script('iptables-save', `exec cat '${path.join(dir, 'sample')}'`);
    script(
      'iptables-nft-save',
      'echo "iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)" >&2; exit 4',
    );
    script('iptables-legacy-save', 'exec sleep 5');
    script('nft', 'echo "Error: Could not process rule: Operation not permitted" >&2; exit 1');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('no tools at all: every source unavailable, naming the tool', async () => {
    const f = await readNatFacts(undefined, { searchPath: [path.join(dir, 'empty')] });
    assert.deepEqual(
      f.sources.map((s) => s.status),
      ['unavailable', 'unavailable', 'unavailable', 'unavailable'],
    );
    for (const s of f.sources) {
      assert.match(s.reason ?? '', new RegExp(`^${s.source} not found in `));
      assert.equal(s.analysis, null);
    }
  });

  test('working, failing and hanging tools, each reported on its own', async () => {
    const f = await readNatFacts(undefined, { searchPath: [path.join(dir, 'bin')], timeoutMs: 500 });
    const by = new Map(f.sources.map((s) => [s.source, s]));
    assert.equal(by.get('iptables-save')?.status, 'ok');
    assert.equal(by.get('iptables-save')?.analysis?.kubeMarkFix, true);
    assert.equal(by.get('iptables-save')?.backend, 'nf_tables', 'from the "(nf_tables)" header');
    assert.equal(by.get('iptables-nft-save')?.status, 'unavailable');
    assert.match(by.get('iptables-nft-save')?.reason ?? '', /exit status 4: .*Permission denied/);
    assert.equal(by.get('iptables-legacy-save')?.status, 'unavailable');
    assert.match(by.get('iptables-legacy-save')?.reason ?? '', /timed out after 500 ms/);
    assert.match(by.get('nft')?.reason ?? '', /exit status 1: Error: Could not process rule/);
  });

  test('a namespace that does not exist, a name with a NUL byte, no nsenter to enter a path', async () => {
    const f = await readNatFacts(`csumtop-no-such-ns-${process.pid}`);
    assert.equal(f.sources.length, 4);
    for (const s of f.sources) {
      assert.equal(s.status, 'unavailable');
      assert.match(s.reason ?? '', /no such network namespace|not found in/);
    }
    const bad = await readNatFacts('bad\0name', { searchPath: [path.join(dir, 'bin')] });
    for (const s of bad.sources) assert.match(s.reason ?? '', /NUL byte/);
    const g = await readNatFacts('/proc/self/ns/net', { searchPath: [path.join(dir, 'bin')] });
    for (const s of g.sources) assert.match(s.reason ?? '', /nsenter \(util-linux\) not found/);
  });
});
