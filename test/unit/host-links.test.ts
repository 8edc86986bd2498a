/**
 * Interface discovery against the kernel: builds its own network namespaces (a "node"
 * with an underlay veth, flannel-style and calico-style VXLAN devices, a Geneve device,
 * a bridge with a pod veth, a dummy and an IPIP tunnel; a "remote node"; a "pod"), then
 * checks listLinks() against `ip -details -json link show` and `ethtool -k` / `ethtool -i`
 * run inside the namespace, the -i selection, the interface roles, namespace naming by
 * name, path and pid, and the errors.
 *
 * Needs root (CI runs as root): without it the suite fails and says so. A device kind the
 * kernel cannot create (no module: CONFIG_GENEVE, CONFIG_NET_IPIP, CONFIG_DUMMY) fails
 * is reported as a diagnostic ("MISSING KERNEL SUPPORT") and its checks show up as
 * skipped with the reason, unless CSUMTOP_TEST_REQUIRE_KINDS names it (then it fails). The rtnetlink parser is also run on synthetic
 * messages of every kind, so Geneve parsing is tested on any kernel.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { globToRegExp, interfaceRole, listLinks, netnsIdentity, pidNetns, resolveNetns, selectInterfaces, type Link } from '../../src/host/links.js';
import { parseOptions } from '../../src/cli/args.js';
import { parseLinkDump } from '../../src/native/host.js';
import { attr, ifinfomsg, nlmsg, str, u16, u32 } from '../lib/netlink.js';

const NS = `csumtop-t${process.pid}-node`;
const NS_REMOTE = `csumtop-t${process.pid}-remote`;
const NS_POD = `csumtop-t${process.pid}-pod`;
const ALL_NS = [NS, NS_REMOTE, NS_POD];

type OptionalKind = 'geneve' | 'ipip' | 'dummy';
// A kind whose driver the kernel lacks ("Unknown device type" even after modprobe; this
// project's CI kernels have no modules) is skipped loudly: a diagnostic and a SKIP line
// naming it. CSUMTOP_TEST_REQUIRE_KINDS=geneve,ipip,dummy makes those kinds mandatory.
const REQUIRED = new Set(
  (process.env.CSUMTOP_TEST_REQUIRE_KINDS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);
const ALLOWED_MISSING = new Set(['geneve', 'ipip', 'dummy'].filter((k) => !REQUIRED.has(k)));

interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  link_type: string;
  address?: string;
  link?: string;
  link_index?: number;
  link_netnsid?: number;
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

function ipn(ns: string, ...args: string[]): string {
  return run('ip', ['-n', ns, ...args]);
}

function ipJson(ns: string): IpLink[] {
  return JSON.parse(ipn(ns, '-details', '-json', 'link', 'show')) as IpLink[];
}

function inNs(ns: string, cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  return tryRun('ip', ['netns', 'exec', ns, cmd, ...args]);
}

function byName(links: readonly Link[], name: string): Link {
  const l = links.find((x) => x.name === name);
  assert.ok(l, `link ${name} not listed; have ${links.map((x) => x.name).join(', ')}`);
  return l;
}

const missing = new Map<OptionalKind, string>();
let sleeper: ChildProcess | undefined;
let cleaned = false;

function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  if (sleeper?.pid !== undefined && sleeper.exitCode === null) sleeper.kill('SIGKILL');
  for (const ns of ALL_NS) tryRun('ip', ['netns', 'del', ns]);
}
process.on('exit', cleanup);

/** Creates a device of an optional kind; returns false (and records why) when the kernel
 * has no driver for it even after modprobe. Any other failure throws. */
function addOptional(kind: OptionalKind, module: string, args: string[]): boolean {
  let r = tryRun('ip', ['-n', NS, 'link', 'add', ...args]);
  if (r.status === 0) return true;
  const noDriver = (s: string): boolean => /Unknown device type|Operation not supported|not supported/i.test(s);
  if (!noDriver(r.stderr)) throw new Error(`ip link add ${args.join(' ')} failed: ${r.stderr}`);
  const mp = tryRun('modprobe', [module]);
  r = tryRun('ip', ['-n', NS, 'link', 'add', ...args]);
  if (r.status === 0) return true;
  if (!noDriver(r.stderr)) throw new Error(`ip link add ${args.join(' ')} failed: ${r.stderr}`);
  const modprobe = mp.status === 0 ? 'loaded' : mp.status === null ? 'modprobe not installed' : mp.stderr.trim();
  missing.set(kind, `the kernel cannot create a ${kind} device (ip: ${r.stderr.trim()}; modprobe ${module}: ${modprobe})`);
  return false;
}

function skipIfMissing(t: { skip(msg: string): void }, kind: OptionalKind): boolean {
  const why = missing.get(kind);
  if (why === undefined) return false;
  t.skip(
    ALLOWED_MISSING.has(kind) ? `MISSING KERNEL SUPPORT: ${why}` : `${why}; required by CSUMTOP_TEST_REQUIRE_KINDS: the "kernel can create" test fails for it`,
  );
  return true;
}

describe('host links', () => {
  before(() => {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
      throw new Error(
        'test/unit/host-links.test.ts needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN): it creates network ' +
          'namespaces, veth, vxlan, geneve, bridge, dummy and ipip devices. Run it as root (CI does).',
      );
    }
    for (const ns of ALL_NS) tryRun('ip', ['netns', 'del', ns]); // leftovers of a killed run
    for (const ns of ALL_NS) run('ip', ['netns', 'add', ns]);
    ipn(NS, 'link', 'set', 'lo', 'up');
    // Underlay: a veth named like a NIC whose peer is the remote node's eth0.
    ipn(NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS_REMOTE);
    ipn(NS, 'addr', 'add', '192.168.200.1/24', 'dev', 'eth0');
    ipn(NS, 'link', 'set', 'eth0', 'up');
    ipn(NS_REMOTE, 'link', 'set', 'eth0', 'up');
    // flannel: VNI 1 normally; 42 here so the number cannot be a default.
    ipn(NS, 'link', 'add', 'flannel.1', 'type', 'vxlan', 'id', '42', 'dstport', '8472', 'noudpcsum', 'dev', 'eth0', 'local', '192.168.200.1', 'nolearning');
    ipn(NS, 'link', 'set', 'flannel.1', 'up');
    // calico: port 4789, with outer checksums; left down.
    ipn(NS, 'link', 'add', 'vxlan.calico', 'type', 'vxlan', 'id', '4096', 'dstport', '4789', 'udpcsum', 'local', '192.168.200.1');
    // A bridge with a pod's host-side veth, and a down calico-style veth.
    ipn(NS, 'link', 'add', 'cni0', 'type', 'bridge');
    ipn(NS, 'link', 'set', 'cni0', 'up');
    ipn(NS, 'link', 'add', 'veth1a2b3c4d', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS_POD);
    ipn(NS, 'link', 'set', 'veth1a2b3c4d', 'master', 'cni0', 'mtu', '1450', 'up');
    ipn(NS, 'link', 'add', 'cali0123456789', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', NS_POD);
    // A veth pair with both ends here.
    ipn(NS, 'link', 'add', 'test-a', 'type', 'veth', 'peer', 'name', 'test-b');
    // A tun (IP packets, ARPHRD_NONE) and a tap (Ethernet frames): both of kind "tun".
    ipn(NS, 'tuntap', 'add', 'dev', 'tun7', 'mode', 'tun');
    ipn(NS, 'tuntap', 'add', 'dev', 'tap7', 'mode', 'tap');
    if (addOptional('geneve', 'geneve', ['genev_sys_6081', 'type', 'geneve', 'id', '7', 'remote', '192.168.200.2', 'udpcsum'])) {
      ipn(NS, 'link', 'set', 'genev_sys_6081', 'up');
    }
    addOptional('dummy', 'dummy', ['kube-ipvs0', 'type', 'dummy']);
    addOptional('ipip', 'ipip', ['ipip-csum', 'type', 'ipip', 'local', '192.168.200.1', 'remote', '192.168.200.2']);
  });

  after(cleanup);

  test('kernel can create every device kind the suite needs (or the gap is declared)', (t) => {
    for (const why of missing.values()) t.diagnostic(`MISSING KERNEL SUPPORT: ${why}`);
    for (const [kind, why] of missing) {
      assert.ok(ALLOWED_MISSING.has(kind), `${why}, and CSUMTOP_TEST_REQUIRE_KINDS requires ${kind}.`);
    }
    // The mandatory kinds were created (before() throws otherwise): prove it.
    const kinds = new Set(ipJson(NS).map((l) => l.linkinfo?.info_kind));
    for (const k of ['veth', 'vxlan', 'bridge']) assert.ok(kinds.has(k), `no ${k} device in ${NS}`);
  });

  test('listLinks(ns) agrees with ip -details -json link show', () => {
    const ours = listLinks(NS);
    const ip = ipJson(NS);
    assert.deepEqual(
      ours.map((l) => l.ifindex).sort((a, b) => a - b),
      ip.map((l) => l.ifindex).sort((a, b) => a - b),
      'same set of ifindexes',
    );
    const indexOf = new Map(ip.map((l) => [l.ifname, l.ifindex]));
    for (const want of ip) {
      const got = ours.find((l) => l.ifindex === want.ifindex);
      assert.ok(got);
      const what = `${want.ifname}:`;
      assert.equal(got.name, want.ifname, what);
      assert.equal(got.mtu, want.mtu, `${what} mtu`);
      assert.equal(got.kind, want.linkinfo?.info_kind ?? null, `${what} kind`);
      assert.equal(got.up, want.flags.includes('UP'), `${what} up`);
      assert.equal(got.loopback, want.flags.includes('LOOPBACK'), `${what} loopback`);
      if (want.link_type === 'ether' || want.link_type === 'loopback') {
        assert.equal(got.mac, want.address, `${what} mac`);
      }
      assert.equal(got.master, want.master === undefined ? null : indexOf.get(want.master), `${what} master`);
      if (want.link_netnsid !== undefined) {
        assert.equal(got.linkNetnsid, want.link_netnsid, `${what} link netnsid`);
        assert.equal(got.link, want.link_index, `${what} link index in the peer namespace`);
      } else if (want.link !== undefined) {
        assert.equal(got.linkNetnsid, null, `${what} link netnsid`);
        assert.equal(got.link, indexOf.get(want.link), `${what} link`);
      }
      const data = want.linkinfo?.info_data;
      if (want.linkinfo?.info_kind === 'vxlan' && data) {
        assert.ok(got.vxlan, `${what} vxlan parameters`);
        assert.equal(got.vxlan.vni, data.id, `${what} vni`);
        assert.equal(got.vxlan.port, data.port, `${what} port`);
        assert.equal(got.vxlan.udpCsum, data.udp_csum ?? null, `${what} udp_csum`);
        assert.equal(got.vxlan.link, data.link === undefined ? null : indexOf.get(data.link as string), `${what} vxlan link`);
        assert.equal(got.vxlan.local, data.local ?? null, `${what} local`);
      } else {
        assert.equal(got.vxlan, undefined, `${what} no vxlan parameters`);
      }
    }
    // And the values the setup chose, so a wrong reading cannot agree with a wrong ip(8).
    const flannel = byName(ours, 'flannel.1');
    assert.deepEqual(
      { ...flannel.vxlan },
      {
        vni: 42,
        port: 8472,
        link: byName(ours, 'eth0').ifindex,
        local: '192.168.200.1',
        udpCsum: false,
        udpZeroCsum6Tx: false,
        udpZeroCsum6Rx: false,
      },
    );
    const calico = byName(ours, 'vxlan.calico');
    assert.equal(calico.vxlan?.vni, 4096);
    assert.equal(calico.vxlan?.port, 4789);
    assert.equal(calico.vxlan?.udpCsum, true);
    assert.equal(calico.vxlan?.link, null);
    assert.equal(byName(ours, 'veth1a2b3c4d').master, byName(ours, 'cni0').ifindex);
    assert.equal(byName(ours, 'veth1a2b3c4d').mtu, 1450);
    assert.equal(byName(ours, 'eth0').arphrd, 1); // ARPHRD_ETHER
    assert.equal(byName(ours, 'lo').arphrd, 772); // ARPHRD_LOOPBACK
    // Both captured as Ethernet (loopback frames carry a zeroed Ethernet header).
    assert.equal(byName(ours, 'eth0').linktype, 1);
    assert.equal(byName(ours, 'lo').linktype, 1);
    // The link type follows the ARPHRD type, not the kind: a tap is Ethernet, a tun raw
    // IP, though both are "tun" (a -w file or a dashboard hex dump of a tap taken as raw
    // IP would be garbage).
    assert.equal(byName(ours, 'tun7').kind, 'tun');
    assert.equal(byName(ours, 'tap7').kind, 'tun');
    assert.equal(byName(ours, 'tun7').arphrd, 65534); // ARPHRD_NONE
    assert.equal(byName(ours, 'tun7').linktype, 101);
    assert.equal(byName(ours, 'tap7').linktype, 1);
    // veth peers: in another namespace (netnsid) or here (plain index).
    assert.notEqual(byName(ours, 'eth0').linkNetnsid, null);
    assert.equal(byName(ours, 'test-a').link, byName(ours, 'test-b').ifindex);
    assert.equal(byName(ours, 'test-a').linkNetnsid, null);
  });

  test('driver, bus info and offload features agree with ethtool -i / ethtool -k in the namespace', () => {
    const ours = listLinks(NS);
    let compared = 0;
    for (const name of ['eth0', 'flannel.1', 'vxlan.calico', 'cni0', 'veth1a2b3c4d', 'lo']) {
      const got = byName(ours, name);
      const i = inNs(NS, 'ethtool', ['-i', name]);
      if (i.status === 0) {
        const driver = /^driver: (.*)$/m.exec(i.stdout)?.[1] ?? '';
        const bus = /^bus-info: (.*)$/m.exec(i.stdout)?.[1] ?? '';
        assert.equal(got.driver, driver === '' ? null : driver, `${name} driver`);
        assert.equal(got.busInfo, bus === '' ? null : bus, `${name} bus-info`);
      } else {
        assert.equal(got.driver, null, `${name}: ethtool -i fails (${i.stderr.trim()}), so no driver`);
      }
      const k = inNs(NS, 'ethtool', ['-k', name]);
      assert.equal(k.status, 0, `ethtool -k ${name}: ${k.stderr}`);
      for (const line of k.stdout.split('\n')) {
        const m = /^\s*([A-Za-z0-9_-]+): (on|off)( \[fixed\])?/.exec(line);
        if (!m) continue;
        // ethtool prints the kernel's "rx-checksum" as "rx-checksumming" (ethtool.c off_flag_def).
        const kernelName = m[1] === 'rx-checksumming' ? 'rx-checksum' : m[1];
        if (!(kernelName in got.features)) continue;
        assert.equal(got.features[kernelName], m[2] === 'on', `${name} ${kernelName}`);
        if (kernelName !== 'rx-checksum') {
          assert.equal(got.fixedFeatures.includes(kernelName), m[3] !== undefined, `${name} ${kernelName} [fixed]`);
        }
        compared++;
      }
      for (const f of ['tx-checksum-ip-generic', 'rx-checksum', 'tx-udp_tnl-segmentation', 'tx-udp_tnl-csum-segmentation']) {
        assert.equal(typeof got.features[f], 'boolean', `${name} has feature ${f}`);
      }
    }
    assert.ok(compared >= 6 * 30, `compared only ${compared} feature states with ethtool -k`);
    assert.equal(byName(ours, 'eth0').driver, 'veth');
    assert.equal(byName(ours, 'flannel.1').driver, 'vxlan');
    assert.equal(byName(ours, 'cni0').driver, 'bridge');
  });

  test('feature state is read live: the flannel.1 remedy shows up', () => {
    assert.equal(byName(listLinks(NS), 'flannel.1').features['tx-checksum-ip-generic'], true);
    const r = inNs(NS, 'ethtool', ['-K', 'flannel.1', 'tx-checksum-ip-generic', 'off']);
    assert.equal(r.status, 0, r.stderr);
    const f = byName(listLinks(NS), 'flannel.1');
    assert.equal(f.features['tx-checksum-ip-generic'], false);
    assert.equal(f.fixedFeatures.includes('tx-checksum-ip-generic'), false);
  });

  test('geneve device: kind, VNI, port and UDP checksum', (t) => {
    if (skipIfMissing(t, 'geneve')) return;
    const g = byName(listLinks(NS), 'genev_sys_6081');
    const want = ipJson(NS).find((l) => l.ifname === 'genev_sys_6081');
    assert.equal(g.kind, 'geneve');
    assert.equal(g.geneve?.vni, 7);
    assert.equal(g.geneve?.port, 6081);
    assert.equal(g.geneve?.udpCsum, true);
    assert.equal(g.geneve?.vni, want?.linkinfo?.info_data?.id);
    assert.equal(g.geneve?.port, want?.linkinfo?.info_data?.port);
    assert.equal(g.geneve?.udpCsum, want?.linkinfo?.info_data?.udp_csum ?? null);
    assert.equal(interfaceRole(g), 'geneve');
  });

  test('ipip tunnel: kind, ARPHRD_TUNNEL, the 4-byte local address, role', (t) => {
    if (skipIfMissing(t, 'ipip')) return;
    const links = listLinks(NS);
    const l = byName(links, 'ipip-csum');
    assert.equal(l.kind, 'ipip');
    assert.equal(l.arphrd, 768); // ARPHRD_TUNNEL, include/uapi/linux/if_arp.h
    assert.equal(l.linktype, 101, 'an ipip device hands over raw IP (DLT_RAW)');
    assert.equal(l.mac, 'c0:a8:c8:01'); // 192.168.200.1
    assert.equal(interfaceRole(l), 'ipip');
    const want = ipJson(NS).find((x) => x.ifname === 'ipip-csum');
    assert.equal(want?.linkinfo?.info_kind, 'ipip');
    assert.equal(want?.address, '192.168.200.1');
    // The ipip module's per-namespace fallback device (net/ipv4/ipip.c), unless
    // net.core.fb_tunnels_only_for_init_net keeps it out of new namespaces.
    const tunl0 = links.find((x) => x.name === 'tunl0');
    if (tunl0) assert.equal(interfaceRole(tunl0), 'ipip');
    else assert.notEqual(fs.readFileSync('/proc/sys/net/core/fb_tunnels_only_for_init_net', 'utf8').trim(), '0');
  });

  test('dummy device: kind, role other', (t) => {
    if (skipIfMissing(t, 'dummy')) return;
    const l = byName(listLinks(NS), 'kube-ipvs0');
    assert.equal(l.kind, 'dummy');
    assert.equal(interfaceRole(l), 'other');
  });

  test('-i globs select by name; exact names that match nothing are returned', () => {
    const links = listLinks(NS);
    // The -i list as the command line parses it.
    const sel = selectInterfaces(links, parseOptions(['-i', ' eth0, flannel.*,cali*,,nosuch0,genev?sys*, lxc*']).interfaces!);
    const names = sel.selected.map((l) => l.name);
    const expected = ['eth0', 'flannel.1', 'cali0123456789'];
    if (!missing.has('geneve')) expected.push('genev_sys_6081');
    assert.deepEqual([...names].sort(), [...expected].sort());
    assert.deepEqual(sel.unmatched, ['nosuch0']);
    assert.deepEqual(sel.emptyGlobs, missing.has('geneve') ? ['genev?sys*', 'lxc*'] : ['lxc*']);
    // Kernel order, each link once even when two patterns match it.
    const twice = selectInterfaces(links, ['flannel.1', 'flannel*', 'f*']);
    assert.deepEqual(
      twice.selected.map((l) => l.name),
      ['flannel.1'],
    );
    assert.deepEqual(twice.unmatched, []);
    assert.throws(() => parseOptions(['-i', ' , ']), /-i: expected a comma-separated list/);
  });

  test('globs: * and ? only, dots literal, anchored', () => {
    assert.ok(globToRegExp('flannel.*').test('flannel.4096'));
    assert.ok(!globToRegExp('flannel.*').test('flannelx1'));
    assert.ok(globToRegExp('eth?').test('eth0'));
    assert.ok(!globToRegExp('eth?').test('eth10'));
    assert.ok(!globToRegExp('eth0').test('veth0'));
    assert.ok(globToRegExp('*').test(''));
    assert.ok(globToRegExp('a+b(c)[d]').test('a+b(c)[d]'));
  });

  test('default selection: every link that is up, except loopback', () => {
    const links = listLinks(NS);
    const sel = selectInterfaces(links, null);
    const expected = ipJson(NS)
      .filter((l) => l.flags.includes('UP') && !l.flags.includes('LOOPBACK'))
      .map((l) => l.ifname);
    assert.deepEqual(
      sel.selected.map((l) => l.name),
      expected,
    );
    const names = new Set(sel.selected.map((l) => l.name));
    for (const n of ['eth0', 'flannel.1', 'cni0', 'veth1a2b3c4d']) assert.ok(names.has(n), `${n} selected`);
    for (const n of ['lo', 'vxlan.calico', 'cali0123456789', 'test-a']) assert.ok(!names.has(n), `${n} not selected`);
    assert.ok(byName(links, 'lo').up, 'lo is up, excluded for being loopback');
    assert.deepEqual(sel.unmatched, []);
  });

  test('roles: link kind first, names as fallback', () => {
    const links = listLinks(NS);
    const role = (n: string): string => interfaceRole(byName(links, n));
    assert.equal(role('eth0'), 'underlay'); // a veth named like a NIC (kind-in-Docker node)
    assert.equal(role('flannel.1'), 'vxlan');
    assert.equal(role('vxlan.calico'), 'vxlan');
    assert.equal(role('cni0'), 'bridge');
    assert.equal(role('veth1a2b3c4d'), 'pod-veth');
    assert.equal(role('cali0123456789'), 'pod-veth');
    assert.equal(role('test-a'), 'veth');
    assert.equal(role('lo'), 'other');
    const base = byName(links, 'test-a');
    const fake = (name: string, kind: string | null, busInfo: string | null = null): Link => ({
      ...base,
      name,
      kind,
      busInfo,
      vxlan: undefined,
    });
    assert.equal(interfaceRole(fake('ens5', null, '0000:00:05.0')), 'underlay');
    assert.equal(interfaceRole(fake('wlp2s0', null, '0000:03:00.0')), 'underlay'); // hardware by bus
    assert.equal(interfaceRole(fake('bond0', 'bond')), 'underlay');
    assert.equal(interfaceRole(fake('flannel.4096', null)), 'vxlan'); // no kind: name
    assert.equal(interfaceRole(fake('cilium_vxlan', null)), 'vxlan');
    assert.equal(interfaceRole(fake('ovn0', 'openvswitch')), 'geneve');
    assert.equal(interfaceRole(fake('tunl0', null)), 'ipip');
    assert.equal(interfaceRole(fake('docker0', null)), 'bridge');
    assert.equal(interfaceRole(fake('lxc12ab', null)), 'pod-veth');
    assert.equal(interfaceRole(fake('kube-ipvs0', 'dummy')), 'other');
    assert.equal(interfaceRole(fake('weird0', 'vxlan')), 'vxlan'); // kind beats name
    assert.equal(interfaceRole(fake('eth9', 'bridge')), 'bridge');
  });

  test('a namespace named by /run/netns/NAME and by /proc/PID/ns/net is the same one', async () => {
    assert.equal(resolveNetns('foo'), '/run/netns/foo');
    assert.equal(resolveNetns('/proc/1/ns/net'), '/proc/1/ns/net');
    assert.equal(resolveNetns('./x'), './x');
    assert.throws(() => resolveNetns(''), /empty/);
    assert.throws(() => resolveNetns('..'), /invalid/);

    sleeper = spawn('ip', ['netns', 'exec', NS, 'sleep', '300'], { stdio: 'ignore' });
    const pid = sleeper.pid;
    assert.ok(pid !== undefined, 'spawned sleep');
    // `ip netns exec` calls setns() and then execs sleep: once the process is sleep,
    // it is in the namespace.
    const deadline = Date.now() + 5000;
    while (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'sleep') {
      assert.ok(Date.now() < deadline, 'sleep did not start inside the namespace');
      await new Promise((r) => setTimeout(r, 10));
    }
    const byPid = netnsIdentity(pidNetns(pid));
    assert.match(byPid, /^\d+:\d+$/);
    assert.equal(byPid, netnsIdentity(NS));
    assert.equal(byPid, netnsIdentity(`/run/netns/${NS}`));
    assert.notEqual(byPid, netnsIdentity('/proc/self/ns/net'));
    assert.notEqual(byPid, netnsIdentity(NS_REMOTE));
    const viaPid = listLinks(pidNetns(pid)).map((l) => `${l.ifindex}:${l.name}`);
    assert.deepEqual(
      viaPid,
      listLinks(NS).map((l) => `${l.ifindex}:${l.name}`),
    );
    sleeper.kill('SIGKILL');

    const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    assert.throws(() => pidNetns(pidMax), new RegExp(`^Error: no such process: ${pidMax}`));
    assert.throws(() => pidNetns(-1), /invalid pid/);
    assert.throws(() => pidNetns(1.5), /invalid pid/);
  });

  test('the calling thread stays in its namespace', () => {
    const mine = netnsIdentity('/proc/thread-self/ns/net');
    // Other processes may add links to this namespace meanwhile: retry a few times.
    let ours: string[] = [];
    let ip: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      ours = listLinks().map((l) => l.name);
      listLinks(NS);
      listLinks(NS_POD);
      ip = (JSON.parse(run('ip', ['-json', 'link', 'show'])) as IpLink[]).map((l) => l.ifname);
      if (JSON.stringify(ours) === JSON.stringify(ip)) break;
    }
    assert.equal(netnsIdentity('/proc/thread-self/ns/net'), mine);
    assert.deepEqual(ours, ip, 'listLinks() after entering other namespaces still lists this one');
    // The pod namespace holds exactly what the setup put there.
    assert.deepEqual(
      listLinks(NS_POD)
        .map((l) => l.name)
        .sort(),
      ['eth0', 'eth1', 'lo'],
    );
  });

  test('without CAP_SYS_ADMIN: the clear EPERM message', () => {
    // Still uid 0 (can read the files), but CAP_SYS_ADMIN dropped from the bounding set,
    // so the exec'd node has it in no set; setns(2) then fails with EPERM.
    const script =
      `const { listLinks } = require(${JSON.stringify(require.resolve('../../src/host/links.js'))});` +
      `try { listLinks(${JSON.stringify(NS)}); console.log('entered'); } catch (e) { console.log(e.message); }`;
    const r = tryRun('setpriv', ['--bounding-set=-sys_admin', '--inh-caps=-sys_admin', '--', process.execPath, '-e', script]);
    assert.equal(r.status, 0, `setpriv (util-linux) is needed for this check: ${r.stderr}`);
    assert.equal(r.stdout.trim(), `need CAP_SYS_ADMIN to enter network namespace ${NS} (/run/netns/${NS}) (run as root)`);
  });

  test('clear errors: missing namespace, not a network namespace', () => {
    const name = `csumtop-nosuch-${process.pid}`;
    assert.throws(() => listLinks(name), {
      message: `no such network namespace: ${name} (/run/netns/${name})`,
    });
    assert.throws(() => netnsIdentity(name), /^Error: no such network namespace: csumtop-nosuch-/);
    assert.throws(() => listLinks('/nonexistent/ns/net'), /^Error: no such network namespace: \/nonexistent\/ns\/net$/);
    assert.throws(() => listLinks('/proc/self/ns/mnt'), /^Error: not a network namespace: \/proc\/self\/ns\/mnt/);
    assert.throws(() => listLinks('/etc/hostname'), /^Error: not a network namespace: \/etc\/hostname/);
  });
});

// ---------------------------------------------------------------- synthetic rtnetlink

/** Overwrites a host-order u16 in place. */
function setU16(buf: Buffer, v: number, off: number): void {
  u16(v).copy(buf, off);
}
function be16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
const NLA_F_NESTED = 0x8000;
function ifinfo(index: number, type: number, flags: number): Buffer {
  return ifinfomsg(0, index, type, flags);
}
const RTM_NEWLINK = 16;
const NLMSG_DONE = 3;
const NLMSG_ERROR = 2;
const NLM_F_MULTI = 2;
const NLM_F_DUMP_INTR = 0x10;

function geneveMessage(): Buffer {
  return nlmsg(
    RTM_NEWLINK,
    NLM_F_MULTI,
    Buffer.concat([
      ifinfo(9, 1, 0x1 | 0x40 | 0x1000), // IFF_UP | IFF_RUNNING | IFF_MULTICAST
      attr(3, str('genev_sys_6081')), // IFLA_IFNAME
      attr(4, u32(65000)), // IFLA_MTU
      attr(1, Buffer.from([0x02, 0, 0, 0, 0, 0x09])), // IFLA_ADDRESS
      attr(10, u32(4)), // IFLA_MASTER
      attr(
        18 | NLA_F_NESTED, // IFLA_LINKINFO
        Buffer.concat([
          attr(1, str('geneve')), // IFLA_INFO_KIND
          attr(
            2 | NLA_F_NESTED, // IFLA_INFO_DATA
            Buffer.concat([
              attr(1, u32(0x123456)), // IFLA_GENEVE_ID
              attr(5, be16(6081)), // IFLA_GENEVE_PORT, __be16
              attr(8, Buffer.from([0])), // IFLA_GENEVE_UDP_CSUM
            ]),
          ),
        ]),
      ),
    ]),
  );
}

function oldVxlanMessage(): Buffer {
  // A vxlan link as an older kernel reports it: no IFLA_VXLAN_UDP_CSUM; IPv6 local.
  const local6 = Buffer.alloc(16);
  local6[0] = 0xfd;
  local6[15] = 1;
  return nlmsg(
    RTM_NEWLINK,
    NLM_F_MULTI,
    Buffer.concat([
      ifinfo(10, 1, 0),
      attr(3, str('vxlan0')),
      attr(5, u32(3)), // IFLA_LINK
      attr(37, u32(0xffffffff)), // IFLA_LINK_NETNSID = -1 is still "present"
      attr(
        18,
        Buffer.concat([
          attr(1, str('vxlan')),
          attr(
            2,
            Buffer.concat([
              attr(1, u32(1)), // IFLA_VXLAN_ID
              attr(15, be16(8472)), // IFLA_VXLAN_PORT
              attr(17, local6), // IFLA_VXLAN_LOCAL6
            ]),
          ),
        ]),
      ),
    ]),
  );
}

describe('rtnetlink parser on synthetic messages', () => {
  const done = nlmsg(NLMSG_DONE, NLM_F_MULTI, u32(0));

  test('geneve and an old-kernel vxlan, multi-part, NLMSG_DONE', () => {
    const r = parseLinkDump(Buffer.concat([geneveMessage(), oldVxlanMessage(), done]));
    assert.equal(r.error, null);
    assert.equal(r.done, true);
    assert.equal(r.interrupted, false);
    assert.equal(r.links.length, 2);
    const [g, v] = r.links;
    assert.equal(g.name, 'genev_sys_6081');
    assert.equal(g.ifindex, 9);
    assert.equal(g.up && g.running && !g.loopback, true);
    assert.equal(g.mtu, 65000);
    assert.equal(g.mac, '02:00:00:00:00:09');
    assert.equal(g.master, 4);
    assert.equal(g.kind, 'geneve');
    assert.deepEqual({ ...g.geneve }, { vni: 0x123456, port: 6081, udpCsum: false, udpZeroCsum6Tx: null, udpZeroCsum6Rx: null });
    assert.equal(g.vxlan, undefined);
    assert.deepEqual(g.features, {});
    assert.equal(g.driver, null);
    assert.equal(v.kind, 'vxlan');
    assert.equal(v.link, 3);
    assert.equal(v.linkNetnsid, -1);
    assert.equal(v.vxlan?.port, 8472);
    assert.equal(v.vxlan?.local, 'fd00::1');
    assert.equal(v.vxlan?.udpCsum, null, 'absent IFLA_VXLAN_UDP_CSUM is unknown, not off');
  });

  test('NLM_F_DUMP_INTR, NLMSG_ERROR, a failed dump in NLMSG_DONE', () => {
    const intr = geneveMessage();
    setU16(intr, NLM_F_MULTI | NLM_F_DUMP_INTR, 6);
    assert.equal(parseLinkDump(Buffer.concat([intr, done])).interrupted, true);
    const eperm = parseLinkDump(nlmsg(NLMSG_ERROR, 0, Buffer.concat([u32(-1), Buffer.alloc(16)])));
    assert.match(eperm.error ?? '', /RTM_GETLINK failed: Operation not permitted/);
    const failed = parseLinkDump(nlmsg(NLMSG_DONE, NLM_F_MULTI, u32(-90))); // -EMSGSIZE
    assert.match(failed.error ?? '', /dump failed: Message too long/);
    // INT_MIN in the error field (fuzz regression native/fuzz/regressions/links/done-int-min).
    assert.match(parseLinkDump(nlmsg(NLMSG_DONE, NLM_F_MULTI, u32(0x80000000))).error ?? '', /dump failed/);
    assert.equal(parseLinkDump(Buffer.concat([geneveMessage()])).done, false, 'more parts to come');
  });

  test('lengths out of bounds are errors, never reads past the buffer', () => {
    const good = Buffer.concat([geneveMessage(), oldVxlanMessage(), done]);
    // nlmsg_len past the end.
    const long = Buffer.from(good);
    u32(good.length + 4).copy(long, 0);
    assert.match(parseLinkDump(long).error ?? '', /out of bounds/);
    // An attribute claiming more than its message.
    const badAttr = geneveMessage();
    setU16(badAttr, 0x400, 16 + 16); // first attribute after ifinfomsg
    assert.match(parseLinkDump(badAttr).error ?? '', /malformed attribute/);
    // A nested attribute too long for IFLA_LINKINFO.
    const badNested = geneveMessage();
    const at = badNested.indexOf(Buffer.from('geneve\0')) - 4;
    setU16(badNested, 0x200, at);
    assert.match(parseLinkDump(badNested).error ?? '', /malformed attribute/);
    // Every truncation: whole messages parse, a cut inside a message is an error.
    const b1 = geneveMessage().length;
    const b2 = b1 + oldVxlanMessage().length;
    for (let n = 0; n < good.length; n++) {
      const r = parseLinkDump(good.subarray(0, n));
      assert.equal(r.done, false, `cut at ${n} cannot be done`);
      if (n === 0 || n === b1 || n === b2) {
        assert.equal(r.error, null, `cut at message boundary ${n}`);
        assert.equal(r.links.length, n === 0 ? 0 : n === b1 ? 1 : 2, `cut at ${n}`);
      } else {
        assert.notEqual(r.error, null, `cut inside a message at ${n} must be an error`);
      }
    }
  });
});
