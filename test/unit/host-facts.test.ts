/**
 * Host facts (src/host/facts.ts): the variant A kernel verdict on a table of real
 * release strings (kernel.org, Ubuntu, Debian, RHEL, Oracle UEK, SUSE, Fedora, Amazon
 * Linux, COS, Flatcar), hypervisor detection on fake sysfs trees, and the interface
 * offload facts capture takes from the links of a namespace the test builds (veth
 * underlay, flannel-style and calico-style VXLAN devices), checked against `ethtool -k`
 * run inside it.
 *
 * The interface part needs root; without it it fails and says so.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  assessVariantAKernel,
  classifyHypervisor,
  compareVersions,
  cpuHypervisorFlag,
  detectHypervisor,
  parseKernelRelease,
  readKernelFacts,
  type HypervisorInputs,
  type KernelIdentity,
} from '../../src/host/facts.js';
import type { CloudPlatform, HypervisorKind, KernelFixStatus, KernelFlavor } from '../../src/model/host-facts.js';
import { capturedInterfaceOf, txChecksumOffload } from '../../src/capture/source.js';
import { listLinks, type Link } from '../../src/host/links.js';

// ------------------------------------------------------------------ kernel release

describe('kernel release parsing', () => {
  test('MAJOR.MINOR[.PATCH] and the rest', () => {
    assert.deepEqual(parseKernelRelease('5.4.0-32-generic'), { version: { major: 5, minor: 4, patch: 0 }, rest: '-32-generic', rc: null });
    assert.deepEqual(parseKernelRelease('5.7'), { version: { major: 5, minor: 7, patch: 0 }, rest: '', rc: null });
    assert.deepEqual(parseKernelRelease('5.7.0-rc3+'), { version: { major: 5, minor: 7, patch: 0 }, rest: '-rc3+', rc: 3 });
    assert.deepEqual(parseKernelRelease('3.10.0-1127.8.2.el7.x86_64')?.version, { major: 3, minor: 10, patch: 0 });
    assert.equal(parseKernelRelease('linux'), null);
    assert.equal(parseKernelRelease(''), null);
    assert.ok(compareVersions({ major: 4, minor: 19, patch: 123 }, { major: 4, minor: 19, patch: 122 }) > 0);
    assert.ok(compareVersions({ major: 4, minor: 20, patch: 0 }, { major: 5, minor: 0, patch: 0 }) < 0);
    assert.equal(compareVersions({ major: 5, minor: 7, patch: 0 }, { major: 5, minor: 7, patch: 0 }), 0);
  });
});

interface Row {
  id: KernelIdentity | string;
  status: KernelFixStatus;
  flavor: KernelFlavor;
  /** A fragment the reason must contain (the version compared against). */
  says?: string;
}

// Variant A fix (commit ea64d8d6c675): mainline 5.7, stable 5.6.13, 5.4.41, 4.19.123,
// 4.14.181; Ubuntu 4.15.0-107, 5.4.0-32; RHEL 7 3.10.0-* affected (docs/domain.md).
const TABLE: Row[] = [
  // kernel.org numbering
  { id: '5.7.0', status: 'fixed', flavor: 'upstream', says: '5.7' },
  { id: '5.7', status: 'fixed', flavor: 'upstream' },
  { id: '5.7.0-rc3', status: 'unknown', flavor: 'upstream', says: 'release candidate' },
  { id: '5.8.0-rc1', status: 'fixed', flavor: 'upstream' },
  { id: '6.18.44-fc-v669', status: 'fixed', flavor: 'upstream' },
  { id: '6.1.0', status: 'fixed', flavor: 'upstream' },
  { id: '5.6.12', status: 'affected', flavor: 'upstream', says: '5.6.13' },
  { id: '5.6.13', status: 'fixed', flavor: 'upstream', says: '5.6.13' },
  { id: '5.6.19', status: 'fixed', flavor: 'upstream' },
  { id: '5.4.40', status: 'affected', flavor: 'upstream', says: '5.4.41' },
  { id: '5.4.41', status: 'fixed', flavor: 'upstream' },
  { id: '5.4.290', status: 'fixed', flavor: 'upstream' },
  { id: '5.4.0-rc1', status: 'affected', flavor: 'upstream' },
  { id: '4.19.122', status: 'affected', flavor: 'upstream', says: '4.19.123' },
  { id: '4.19.123', status: 'fixed', flavor: 'upstream' },
  { id: '4.14.180', status: 'affected', flavor: 'upstream', says: '4.14.181' },
  { id: '4.14.181', status: 'fixed', flavor: 'upstream' },
  { id: '4.14', status: 'affected', flavor: 'upstream' },
  { id: '5.5.19', status: 'affected', flavor: 'upstream', says: 'no fix' },
  { id: '5.3.18', status: 'affected', flavor: 'upstream' },
  { id: '4.20.17', status: 'affected', flavor: 'upstream' },
  { id: '4.18.20', status: 'affected', flavor: 'upstream' },
  { id: '3.10.108', status: 'affected', flavor: 'upstream' },
  { id: '2.6.32', status: 'affected', flavor: 'upstream' },
  { id: '4.9.337', status: 'unknown', flavor: 'upstream', says: '4.9.y' },
  { id: '4.4.302', status: 'unknown', flavor: 'upstream' },
  { id: '3.16.85', status: 'unknown', flavor: 'upstream' },
  // distributions that keep upstream numbering
  { id: '5.6.13-300.fc32.x86_64', status: 'fixed', flavor: 'upstream' },
  { id: '5.6.8-300.fc32.x86_64', status: 'affected', flavor: 'upstream' },
  { id: '4.14.181-142.260.amzn2.x86_64', status: 'fixed', flavor: 'upstream' },
  { id: '4.14.177-139.254.amzn2.x86_64', status: 'affected', flavor: 'upstream' },
  { id: '5.4.38-flatcar', status: 'affected', flavor: 'upstream' },
  { id: '5.4.49+', status: 'fixed', flavor: 'upstream' },
  // Ubuntu master kernels
  { id: '4.15.0-106-generic', status: 'affected', flavor: 'ubuntu', says: '4.15.0-107' },
  { id: '4.15.0-107-generic', status: 'fixed', flavor: 'ubuntu', says: '4.15.0-107' },
  { id: '4.15.0-213-generic', status: 'fixed', flavor: 'ubuntu' },
  { id: '5.4.0-31-generic', status: 'affected', flavor: 'ubuntu', says: '5.4.0-32' },
  { id: '5.4.0-32-generic', status: 'fixed', flavor: 'ubuntu' },
  { id: '5.4.0-32-lowlatency', status: 'fixed', flavor: 'ubuntu' },
  { id: '5.4.0-177-generic', status: 'fixed', flavor: 'ubuntu' },
  { id: { release: '5.4.0-26-generic', version: '#30-Ubuntu SMP Mon Apr 20 16:58:30 UTC 2020' }, status: 'affected', flavor: 'ubuntu' },
  { id: '5.8.0-63-generic', status: 'fixed', flavor: 'ubuntu' },
  { id: '5.15.0-91-generic', status: 'fixed', flavor: 'ubuntu' },
  { id: '4.4.0-210-generic', status: 'unknown', flavor: 'ubuntu' },
  { id: '5.3.0-62-generic', status: 'unknown', flavor: 'ubuntu' },
  // Ubuntu derivative (cloud) kernels: ABI numbers of their own
  { id: { release: '5.4.0-1018-aws', signature: 'Ubuntu 5.4.0-1018.18-aws 5.4.44' }, status: 'fixed', flavor: 'ubuntu', says: '5.4.41' },
  { id: { release: '5.4.0-1010-aws', signature: 'Ubuntu 5.4.0-1010.10-aws 5.4.34' }, status: 'unknown', flavor: 'ubuntu', says: '5.4.34' },
  { id: '5.4.0-1010-aws', status: 'unknown', flavor: 'ubuntu' },
  { id: { release: '4.15.0-1065-aws', signature: 'Ubuntu 4.15.0-1065.69-aws 4.15.18' }, status: 'unknown', flavor: 'ubuntu' },
  { id: '5.15.0-1019-azure', status: 'fixed', flavor: 'ubuntu' },
  // Debian: the upstream version is only in uname -v
  { id: { release: '4.19.0-9-amd64', version: '#1 SMP Debian 4.19.118-2+deb10u1 (2020-06-07)' }, status: 'affected', flavor: 'debian', says: '4.19.123' },
  { id: { release: '4.19.0-10-amd64', version: '#1 SMP Debian 4.19.132-1 (2020-07-24)' }, status: 'fixed', flavor: 'debian' },
  { id: '4.19.0-9-amd64', status: 'unknown', flavor: 'debian', says: 'uname -v' },
  { id: { release: '4.9.0-13-amd64', version: '#1 SMP Debian 4.9.228-1 (2020-07-05)' }, status: 'unknown', flavor: 'debian' },
  { id: '5.10.0-28-amd64', status: 'fixed', flavor: 'debian' },
  { id: { release: '6.1.0-18-cloud-amd64', version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)' }, status: 'fixed', flavor: 'debian' },
  // RHEL and rebuilds
  { id: '3.10.0-1127.8.2.el7.x86_64', status: 'affected', flavor: 'rhel', says: '1127.8.2' },
  { id: '3.10.0-1160.108.1.el7.x86_64', status: 'affected', flavor: 'rhel' },
  { id: '3.10.0-957.el7.x86_64', status: 'affected', flavor: 'rhel' },
  { id: '4.18.0-193.el8.x86_64', status: 'unknown', flavor: 'rhel', says: 'changelog' },
  { id: '4.18.0-513.5.1.el8_9.x86_64', status: 'unknown', flavor: 'rhel' },
  { id: '5.14.0-70.13.1.el9_0.x86_64', status: 'fixed', flavor: 'rhel' },
  // Oracle UEK, SUSE
  { id: '5.4.17-2011.1.2.el8uek.x86_64', status: 'unknown', flavor: 'oracle-uek' },
  { id: '5.15.0-200.131.27.el9uek.x86_64', status: 'fixed', flavor: 'oracle-uek' },
  { id: '5.3.18-24.9-default', status: 'unknown', flavor: 'suse' },
  { id: '4.12.14-122.37-default', status: 'unknown', flavor: 'suse' },
  { id: '5.14.21-150400.24.46-default', status: 'fixed', flavor: 'suse' },
  // unreadable
  { id: 'weird', status: 'unknown', flavor: 'unparsed' },
  { id: '', status: 'unknown', flavor: 'unparsed' },
];

describe('variant A kernel verdict', () => {
  for (const row of TABLE) {
    const name = typeof row.id === 'string' ? `'${row.id}'` : JSON.stringify(row.id);
    test(`${name} -> ${row.status} (${row.flavor})`, () => {
      const a = assessVariantAKernel(row.id);
      assert.equal(a.status, row.status, a.reason);
      assert.equal(a.flavor, row.flavor, a.reason);
      assert.ok(a.reason.length > 20, 'a reason is given');
      if (row.says !== undefined) assert.ok(a.reason.includes(row.says), `reason '${a.reason}' mentions ${row.says}`);
      if (row.flavor !== 'unparsed') assert.ok(a.upstream !== null);
    });
  }

  test('readKernelFacts: release and uname -v given, signature from a fake /proc', (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-facts-'));
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    fs.mkdirSync(path.join(root, 'proc'));
    fs.writeFileSync(path.join(root, 'proc', 'version_signature'), 'Ubuntu 5.4.0-1018.18-aws 5.4.44\n');
    const k = readKernelFacts({ root, release: '5.4.0-1018-aws', version: '#18-Ubuntu SMP Wed Jun 24 01:34:24 UTC 2020' });
    assert.equal(k.signature, 'Ubuntu 5.4.0-1018.18-aws 5.4.44');
    assert.equal(k.variantA.status, 'fixed');
    assert.deepEqual(k.variantA.upstream, { major: 5, minor: 4, patch: 44 });
    const bare = readKernelFacts({ root: path.join(root, 'nowhere'), release: '5.4.0-1018-aws', version: null });
    assert.equal(bare.signature, null);
    assert.equal(bare.variantA.status, 'unknown', 'the same kernel without its signature cannot be judged');
  });

  test('readKernelFacts on this machine reads uname', () => {
    const k = readKernelFacts();
    assert.equal(k.release, os.release());
    assert.equal(k.version, os.version());
    assert.equal(k.variantA.status, assessVariantAKernel({ release: os.release(), version: os.version(), signature: k.signature }).status);
  });
});

// ------------------------------------------------------------------ hypervisor

interface FakeSys {
  dmi?: Partial<Record<'sys_vendor' | 'product_name' | 'bios_vendor' | 'bios_version' | 'chassis_asset_tag', string>>;
  hypervisorType?: string;
  cpuinfo?: string;
}

const X86_VM = 'processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse tsc msr pae hypervisor lahf_lm\n\n';
const X86_METAL = 'processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse tsc msr pae vmx smx est\n\n';
const ARM64 = 'processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics\n\n';

function fakeRoot(dir: string, f: FakeSys): string {
  fs.mkdirSync(dir, { recursive: true });
  if (f.dmi) {
    const d = path.join(dir, 'sys', 'class', 'dmi', 'id');
    fs.mkdirSync(d, { recursive: true });
    // sysfs DMI attributes end with a newline (drivers/firmware/dmi-id.c "%s\n").
    for (const [k, v] of Object.entries(f.dmi)) fs.writeFileSync(path.join(d, k), `${v}\n`);
  }
  if (f.hypervisorType !== undefined) {
    fs.mkdirSync(path.join(dir, 'sys', 'hypervisor'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'sys', 'hypervisor', 'type'), `${f.hypervisorType}\n`);
  }
  if (f.cpuinfo !== undefined) {
    fs.mkdirSync(path.join(dir, 'proc'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'proc', 'cpuinfo'), f.cpuinfo);
  }
  return dir;
}

interface HvRow {
  name: string;
  sys: FakeSys;
  kind: HypervisorKind | null;
  platform?: CloudPlatform | null;
}

const AZURE_TAG = '7783-7084-3265-9085-8269-3286-77';
const HV_TABLE: HvRow[] = [
  {
    name: 'VMware ESXi',
    sys: { dmi: { sys_vendor: 'VMware, Inc.', product_name: 'VMware Virtual Platform' }, cpuinfo: X86_VM },
    kind: 'vmware',
    platform: null,
  },
  { name: 'VMware, newer product string', sys: { dmi: { sys_vendor: 'VMware, Inc.', product_name: 'VMware7,1' }, cpuinfo: X86_VM }, kind: 'vmware' },
  {
    name: 'Azure',
    sys: { dmi: { sys_vendor: 'Microsoft Corporation', product_name: 'Virtual Machine', chassis_asset_tag: AZURE_TAG }, cpuinfo: X86_VM },
    kind: 'hyperv',
    platform: 'azure',
  },
  {
    name: 'Hyper-V on premises',
    sys: { dmi: { sys_vendor: 'Microsoft Corporation', product_name: 'Virtual Machine', chassis_asset_tag: '0000-0000-0000' }, cpuinfo: X86_VM },
    kind: 'hyperv',
    platform: null,
  },
  {
    name: 'Microsoft hardware (Surface) is not Hyper-V',
    sys: { dmi: { sys_vendor: 'Microsoft Corporation', product_name: 'Surface Laptop 4' }, cpuinfo: X86_METAL },
    kind: 'none',
    platform: null,
  },
  {
    name: 'EC2 Nitro',
    sys: { dmi: { sys_vendor: 'Amazon EC2', product_name: 'm5.large', bios_vendor: 'Amazon EC2' }, cpuinfo: X86_VM },
    kind: 'kvm',
    platform: 'aws',
  },
  { name: 'EC2 bare metal', sys: { dmi: { sys_vendor: 'Amazon EC2', product_name: 'i3.metal' }, cpuinfo: X86_METAL }, kind: 'none', platform: 'aws' },
  {
    name: 'EC2 Xen',
    sys: { dmi: { sys_vendor: 'Xen', product_name: 'HVM domU', bios_vendor: 'Xen', bios_version: '4.11.amazon' }, hypervisorType: 'xen', cpuinfo: X86_VM },
    kind: 'xen',
    platform: 'aws',
  },
  { name: 'Xen, only /sys/hypervisor', sys: { hypervisorType: 'xen' }, kind: 'xen', platform: null },
  {
    name: 'GCE',
    sys: { dmi: { sys_vendor: 'Google', product_name: 'Google Compute Engine', bios_vendor: 'Google' }, cpuinfo: X86_VM },
    kind: 'kvm',
    platform: 'gce',
  },
  { name: 'QEMU/KVM q35', sys: { dmi: { sys_vendor: 'QEMU', product_name: 'Standard PC (Q35 + ICH9, 2009)' }, cpuinfo: X86_VM }, kind: 'kvm', platform: null },
  { name: 'Proxmox i440fx without a vendor string', sys: { dmi: { product_name: 'Standard PC (i440FX + PIIX, 1996)' }, cpuinfo: X86_VM }, kind: 'kvm' },
  {
    name: 'OpenStack',
    sys: { dmi: { sys_vendor: 'OpenStack Foundation', product_name: 'OpenStack Nova' }, cpuinfo: X86_VM },
    kind: 'kvm',
    platform: 'openstack',
  },
  { name: 'Nutanix AHV', sys: { dmi: { sys_vendor: 'Nutanix', product_name: 'AHV' }, cpuinfo: X86_VM }, kind: 'kvm' },
  { name: 'Hetzner', sys: { dmi: { sys_vendor: 'Hetzner', product_name: 'vServer' }, cpuinfo: X86_VM }, kind: 'kvm', platform: 'hetzner' },
  { name: 'VirtualBox', sys: { dmi: { sys_vendor: 'innotek GmbH', product_name: 'VirtualBox' }, cpuinfo: X86_VM }, kind: 'virtualbox' },
  {
    name: 'Parallels',
    sys: { dmi: { sys_vendor: 'Parallels Software International Inc.', product_name: 'Parallels Virtual Platform' }, cpuinfo: X86_VM },
    kind: 'parallels',
  },
  { name: 'bhyve', sys: { dmi: { sys_vendor: 'FreeBSD', product_name: 'BHYVE' }, cpuinfo: X86_VM }, kind: 'bhyve' },
  { name: 'bare metal Dell', sys: { dmi: { sys_vendor: 'Dell Inc.', product_name: 'PowerEdge R640' }, cpuinfo: X86_METAL }, kind: 'none', platform: null },
  { name: 'unrecognised VM vendor', sys: { dmi: { sys_vendor: 'Acme Cloud', product_name: 'vm.small' }, cpuinfo: X86_VM }, kind: 'unknown' },
  { name: 'no DMI, CPU flag set (Firecracker)', sys: { cpuinfo: X86_VM }, kind: 'unknown' },
  { name: 'no DMI, x86 without the flag', sys: { cpuinfo: X86_METAL }, kind: null },
  { name: 'no DMI, arm64 cpuinfo', sys: { cpuinfo: ARM64 }, kind: null },
  { name: 'nothing at all', sys: {}, kind: null },
  { name: 'arm64 VMware (no CPU flag)', sys: { dmi: { sys_vendor: 'VMware, Inc.', product_name: 'VMware20,1' }, cpuinfo: ARM64 }, kind: 'vmware' },
  { name: 'arm64, unknown vendor, no CPU flag', sys: { dmi: { sys_vendor: 'Ampere', product_name: 'Mt.Jade' }, cpuinfo: ARM64 }, kind: 'unknown' },
];

describe('hypervisor detection from a fake sysfs root', () => {
  let base: string;
  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-hv-'));
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  HV_TABLE.forEach((row, i) => {
    test(`${row.name} -> ${String(row.kind)}${row.platform ? ` (${row.platform})` : ''}`, () => {
      const root = fakeRoot(path.join(base, String(i)), row.sys);
      const h = detectHypervisor({ root });
      if (row.kind === null) {
        assert.equal(h, null);
        return;
      }
      assert.ok(h, 'facts found');
      assert.equal(h.kind, row.kind, h.evidence.join('; '));
      if (row.platform !== undefined) assert.equal(h.platform, row.platform);
      assert.ok(h.evidence.length > 0);
      assert.equal(h.sysVendor, row.sys.dmi?.sys_vendor ?? null, 'sys_vendor read, newline trimmed');
      assert.equal(h.productName, row.sys.dmi?.product_name ?? null);
      assert.equal(h.hypervisorType, row.sys.hypervisorType ?? null);
    });
  });

  test('the CPU flag is read from the flags line only', () => {
    assert.equal(cpuHypervisorFlag(X86_VM), true);
    assert.equal(cpuHypervisorFlag(X86_METAL), false);
    assert.equal(cpuHypervisorFlag(ARM64), null);
    assert.equal(cpuHypervisorFlag(null), null);
    assert.equal(cpuHypervisorFlag('flags\t: fpu nohypervisor\n'), false, 'a whole word, not a substring');
  });

  test('classifyHypervisor is the same rule table without files', () => {
    const none: HypervisorInputs = {
      sysVendor: null,
      productName: null,
      biosVendor: null,
      biosVersion: null,
      chassisAssetTag: null,
      hypervisorType: null,
      cpuFlag: null,
    };
    assert.equal(classifyHypervisor(none), null);
    const vmw = classifyHypervisor({ ...none, sysVendor: 'VMware, Inc.', cpuFlag: true });
    assert.equal(vmw?.kind, 'vmware');
    assert.ok(vmw?.evidence.some((e) => e.includes('VMware, Inc.')));
    assert.ok(vmw?.evidence.some((e) => e.includes('flag set')));
  });

  test('this machine: a CPU with the hypervisor flag is never reported as absent', () => {
    const flag = cpuHypervisorFlag(fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : null);
    const h = detectHypervisor();
    if (flag === true) {
      assert.ok(h !== null && h.kind !== 'none', `hypervisor flag set but detectHypervisor gave ${JSON.stringify(h)}`);
    }
    const vendor = fs.existsSync('/sys/class/dmi/id/sys_vendor') ? fs.readFileSync('/sys/class/dmi/id/sys_vendor', 'utf8').trim() : null;
    assert.equal(h?.sysVendor ?? null, vendor);
  });
});

// ------------------------------------------------------------------ interfaces

function link(over: Partial<Link>): Link {
  return {
    ifindex: 2,
    name: 'ens192',
    flags: 0,
    up: true,
    running: true,
    loopback: false,
    mtu: 1500,
    arphrd: 1,
    linktype: 1,
    mac: '00:50:56:00:00:01',
    link: null,
    linkNetnsid: null,
    master: null,
    kind: null,
    driver: null,
    busInfo: null,
    features: {},
    fixedFeatures: [],
    ...over,
  };
}

/** The interface as capture describes it (src/capture/source.ts): what the diagnosis and the report see. */
function captured(l: Link): ReturnType<typeof capturedInterfaceOf> {
  return capturedInterfaceOf(l, 0, 'host');
}

describe('interface offload facts', () => {
  test('a vmxnet3 NIC with VXLAN offloads on', () => {
    const l = link({
      driver: 'vmxnet3',
      busInfo: '0000:0b:00.0',
      features: {
        'tx-checksum-ip-generic': true,
        'tx-checksum-ipv4': false,
        'rx-checksum': true,
        'tx-udp_tnl-segmentation': true,
        'tx-udp_tnl-csum-segmentation': true,
        'tx-gso-partial': false,
      },
      fixedFeatures: ['tx-checksum-ipv4', 'tx-gso-partial'],
    });
    const f = captured(l);
    assert.equal(f.driver, 'vmxnet3');
    assert.equal(f.role, 'underlay');
    assert.equal(f.txChecksumOffload, true, 'tx-checksum-ip-generic on, tx-checksum-ipv4 off');
    assert.equal(txChecksumOffload({ ...l, features: { ...l.features, 'tx-checksum-ip-generic': false } }), false, 'every tx-checksum-* off');
    assert.equal(f.vxlan, null);
  });

  test('a device without ETHTOOL_GFEATURES: transmit offload is unknown (null), not off', () => {
    const f = captured(link({ name: 'tunl0', kind: 'ipip', driver: null }));
    assert.equal(f.txChecksumOffload, null);
    assert.equal(f.driver, null);
    assert.equal(f.role, 'ipip');
  });
});

const NS = `csumtop-facts${process.pid}-node`;
const NS_PEER = `csumtop-facts${process.pid}-peer`;

function ipn(ns: string, ...args: string[]): void {
  execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `ethtool -k DEV` in `ns`: feature -> {on, fixed}. ethtool prints rx-checksum as
 * "rx-checksumming" (its off_flag_def legacy names). */
function ethtoolK(ns: string, dev: string): Map<string, { on: boolean; fixed: boolean }> {
  const out = execFileSync('ip', ['netns', 'exec', ns, 'ethtool', '-k', dev], { encoding: 'utf8' });
  const m = new Map<string, { on: boolean; fixed: boolean }>();
  for (const line of out.split('\n')) {
    const r = /^\s*([\w-]+):\s+(on|off)(\s+\[fixed\])?/.exec(line);
    if (!r) continue;
    const name = r[1] === 'rx-checksumming' ? 'rx-checksum' : r[1];
    m.set(name, { on: r[2] === 'on', fixed: r[3] !== undefined });
  }
  return m;
}

let nsCleaned = false;
function cleanupNs(): void {
  if (nsCleaned) return;
  nsCleaned = true;
  for (const ns of [NS, NS_PEER]) spawnSync('ip', ['netns', 'del', ns]);
}
process.on('exit', cleanupNs);

describe('interface facts of a namespace', () => {
  before(() => {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
      throw new Error('test/unit/host-facts.test.ts needs root for its namespace part (ip netns, veth, vxlan, ethtool -K). Run it as root (CI does).');
    }
    for (const ns of [NS, NS_PEER]) spawnSync('ip', ['netns', 'del', ns]);
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['netns', 'add', NS_PEER]);
    ipn(NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS_PEER);
    ipn(NS, 'addr', 'add', '192.168.192.1/24', 'dev', 'eth0');
    ipn(NS, 'link', 'set', 'eth0', 'up');
    ipn(NS, 'link', 'add', 'flannel.1', 'type', 'vxlan', 'id', '1', 'dstport', '8472', 'noudpcsum', 'dev', 'eth0', 'local', '192.168.192.1', 'nolearning');
    ipn(NS, 'link', 'set', 'flannel.1', 'up');
    ipn(NS, 'link', 'add', 'vxlan.calico', 'type', 'vxlan', 'id', '4096', 'dstport', '4789', 'udpcsum', 'local', '192.168.192.1');
    // The docs/domain.md remedy, applied: flannel.1 stops offloading its TX checksum.
    execFileSync('ip', ['netns', 'exec', NS, 'ethtool', '-K', 'flannel.1', 'tx-checksum-ip-generic', 'off'], { stdio: 'pipe' });
  });
  after(cleanupNs);

  /** The links capture would attach to in NS (loopback aside), as it describes them. */
  const interfaces = (): Array<ReturnType<typeof capturedInterfaceOf>> =>
    listLinks(NS)
      .filter((l) => !l.loopback)
      .map(captured);

  test('VXLAN parameters, roles and drivers', () => {
    const facts = interfaces();
    assert.deepEqual(facts.map((f) => f.name).sort(), ['eth0', 'flannel.1', 'vxlan.calico'], 'loopback left out');
    const by = new Map(facts.map((f) => [f.name, f]));
    const fl = by.get('flannel.1');
    assert.ok(fl);
    assert.deepEqual(fl.vxlan && { port: fl.vxlan.port, vni: fl.vxlan.vni, udpCsum: fl.vxlan.udpCsum }, { port: 8472, vni: 1, udpCsum: false });
    assert.equal(fl.role, 'vxlan');
    assert.equal(fl.driver, 'vxlan');
    assert.equal(fl.txChecksumOffload, false, 'ethtool -K took effect and is read back');
    const ca = by.get('vxlan.calico');
    assert.deepEqual(ca?.vxlan && { port: ca.vxlan.port, vni: ca.vxlan.vni, udpCsum: ca.vxlan.udpCsum }, { port: 4789, vni: 4096, udpCsum: true });
    assert.equal(ca?.down, true);
    const e = by.get('eth0');
    assert.equal(e?.role, 'underlay');
    assert.equal(e?.driver, 'veth');
    assert.equal(e?.vxlan, null);
  });

  test('every offload feature of the links agrees with ethtool -k inside the namespace', () => {
    const features = ['tx-checksum-ip-generic', 'tx-checksum-ipv4', 'rx-checksum', 'tx-udp_tnl-segmentation', 'tx-udp_tnl-csum-segmentation'];
    const txNames = ['tx-checksum-ip-generic', 'tx-checksum-ipv4', 'tx-checksum-ipv6', 'tx-checksum-hw-ip'];
    for (const l of listLinks(NS).filter((x) => !x.loopback)) {
      const k = ethtoolK(NS, l.name);
      for (const feature of features) {
        const e = k.get(feature);
        assert.ok(e, `ethtool -k ${l.name} prints ${feature}`);
        assert.equal(l.features[feature], e.on, `${l.name} ${feature}`);
        assert.equal(l.fixedFeatures.includes(feature), e.fixed, `${l.name} ${feature} [fixed]`);
      }
      // What the report and the diagnosis are told: transmit checksum offload is on when any tx-checksum-* is.
      assert.equal(
        captured(l).txChecksumOffload,
        txNames.some((n) => k.get(n)?.on === true),
        `${l.name} txChecksumOffload`,
      );
    }
  });
});
