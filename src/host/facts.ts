/**
 * Host facts the diagnosis rules weigh (docs/domain.md): does this kernel carry the variant A
 * fix, and which hypervisor runs the node (variant C is VMware vmxnet3, variant D names
 * Azure and AWS). The interfaces' offload state is the captured interface's
 * (src/capture/source.ts capturedInterfaceOf, from the links of src/host/links.ts).
 *
 * Kernel: uname(2) through os.release() / os.version() (libuv's uv_os_uname), plus
 * Ubuntu's /proc/version_signature. Hypervisor: the SMBIOS strings the kernel exports in
 * /sys/class/dmi/id (drivers/firmware/dmi-id.c), /sys/hypervisor/type (Xen,
 * drivers/xen/sys-hypervisor.c) and the `hypervisor` CPU flag of /proc/cpuinfo. The
 * root of those paths is configurable so tests can hand in a fake sysfs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { CloudPlatform, HypervisorFacts, HypervisorKind, KernelFacts, KernelFixAssessment, KernelFlavor, KernelVersion } from '../model/host-facts.js';

// ================================================================== kernel release

export interface ParsedRelease {
  version: KernelVersion;
  /** What follows MAJOR.MINOR[.PATCH]: "-107-generic", ".el7.x86_64", "-rc3", "". */
  rest: string;
  /** N of a "-rcN" release candidate, else null. */
  rc: number | null;
}

/** MAJOR.MINOR[.PATCH] at the start of a `uname -r` string, or null. */
export function parseKernelRelease(release: string): ParsedRelease | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(.*)$/.exec(release.trim());
  if (!m) return null;
  const rc = /-rc(\d+)/.exec(m[4]);
  return {
    version: { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? 0 : Number(m[3]) },
    rest: m[4],
    rc: rc ? Number(rc[1]) : null,
  };
}

export function compareVersions(a: KernelVersion, b: KernelVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

const fmt = (v: KernelVersion): string => `${v.major}.${v.minor}.${v.patch}`;
const series = (v: KernelVersion): string => `${v.major}.${v.minor}`;

// "netfilter: nat: never update the UDP checksum when it's 0", commit ea64d8d6c675
// (Guillaume Nault, April 2020): mainline 5.7 and these stable releases (docs/domain.md,
// variant A; the stable review announcements of 5.6.13, 5.4.41, 4.19.123, 4.14.181).
// The commit's "Fixes: 5b1158e909ec" points at the original nf_conntrack NAT code:
// every earlier kernel has the bug.
const MAINLINE_FIX: KernelVersion = { major: 5, minor: 7, patch: 0 };
const STABLE_FIX: Readonly<Record<string, number>> = { '5.6': 13, '5.4': 41, '4.19': 123, '4.14': 181 };
// Stable series still maintained when the fix went out (May 2020) for which no release
// with it is recorded: whether a later 4.4.y / 4.9.y / 3.16.y picked it up is not known here.
const MAINTAINED_UNRECORDED = new Set(['4.4', '4.9', '3.16']);
// Ubuntu's own fixed builds (docs/domain.md; Ubuntu 4.15.0-107.108 and 5.4.0-32.36): ABI numbers
// of the master kernels. Derivative kernels (aws, azure, gcp, ... with ABI >= 1000) number
// their builds independently.
const UBUNTU_FIX: Readonly<Record<string, number>> = { '4.15': 107, '5.4': 32 };
const UBUNTU_FLAVORS =
  /^(generic|generic-lpae|generic-64k|lowlatency|lowlatency-64k|virtual|aws|azure|azure-fde|gcp|gke|gkeop|kvm|oracle|ibm|raspi|raspi2|snapdragon|oem|nvidia|nvidia-64k|intel-iotg|realtime|xilinx-zynqmp|bluefield)$/;
const DEBIAN_FLAVORS = /^((cloud|rt)-)?(amd64|arm64|686|686-pae|armmp|armmp-lpae|marvell|rpi|powerpc64le|ppc64el|s390x|loong64|riscv64|mips\w*|octeon)$/;

function assessUpstream(v: KernelVersion, rc: number | null, flavor: KernelFlavor, what: string): KernelFixAssessment {
  const r = (status: KernelFixAssessment['status'], reason: string): KernelFixAssessment => ({ status, reason, flavor, upstream: v });
  if (rc !== null && v.major === 5 && v.minor === 7) {
    return r('unknown', `${what} is a 5.7 release candidate (rc${rc}); the fix (commit ea64d8d6c675) was merged during the 5.7 cycle`);
  }
  if (compareVersions(v, MAINLINE_FIX) >= 0) {
    return r('fixed', `${what} is ${series(v)}, at or after mainline 5.7, which has commit ea64d8d6c675`);
  }
  const fixedPatch = STABLE_FIX[series(v)];
  if (fixedPatch !== undefined) {
    if (rc === null && v.patch >= fixedPatch) {
      return r('fixed', `${what} is ${fmt(v)}; the ${series(v)} stable series has commit ea64d8d6c675 since ${series(v)}.${fixedPatch}`);
    }
    return r('affected', `${what} is ${fmt(v)}, before ${series(v)}.${fixedPatch}, the first ${series(v)} stable release with commit ea64d8d6c675`);
  }
  if (MAINTAINED_UNRECORDED.has(series(v))) {
    return r('unknown', `${what} is ${fmt(v)}; no ${series(v)}.y stable release is recorded with commit ea64d8d6c675 (check the changelog)`);
  }
  return r(
    'affected',
    `${what} is ${fmt(v)}: the ${series(v)} series got no fix (stable fixes exist only for 5.6, 5.4, 4.19 and 4.14) and the bug dates from the first nf_nat code`,
  );
}

/** Inputs of assessVariantAKernel: uname -r, and where known uname -v and Ubuntu's
 * /proc/version_signature. */
export interface KernelIdentity {
  release: string;
  version?: string | null;
  signature?: string | null;
}

/**
 * Does this kernel carry the variant A fix (commit ea64d8d6c675, "netfilter: nat: never
 * update the UDP checksum when it's 0")? Distribution kernels backport fixes without
 * changing their upstream base, so a distribution's version string is judged by that
 * distribution's rule, and 'unknown' is the answer whenever the version cannot tell:
 *
 * - upstream-numbered kernels (kernel.org, Fedora, Arch, Amazon Linux, COS, Flatcar...):
 *   >= 5.7; 5.6.13, 5.4.41, 4.19.123, 4.14.181 within their series; other older series
 *   are affected (4.4, 4.9, 3.16 unknown: maintained at the time, no fixed release known).
 * - Ubuntu (x.y.0-ABI-flavor, or /proc/version_signature): base >= 5.7 fixed; 4.15.0-107
 *   and 5.4.0-32 and later fixed, earlier ABIs affected; a derivative kernel (ABI >= 1000)
 *   is fixed when its signature's upstream version is, else unknown.
 * - Debian (x.y.0-N-amd64): the package's upstream version from uname -v ("Debian
 *   4.19.118-2"), judged as upstream; unknown without it unless the base is >= 5.7.
 * - RHEL and rebuilds (.el7/.el8/.el9): 3.10.0-* affected (RHEL 7 3.10.0-1127.8.2 was
 *   still affected, docs/domain.md; no fixed RHEL 7 build is known); base >= 5.7 fixed; else
 *   unknown. Oracle UEK and SUSE: base >= 5.7 fixed, else unknown.
 */
export function assessVariantAKernel(id: KernelIdentity | string): KernelFixAssessment {
  const k: KernelIdentity = typeof id === 'string' ? { release: id } : id;
  const release = k.release.trim();
  const parsed = parseKernelRelease(release);
  if (parsed === null) {
    return { status: 'unknown', reason: `cannot read a version in kernel release '${release}'`, flavor: 'unparsed', upstream: null };
  }
  const { version: base, rest, rc } = parsed;
  const baseFixed = compareVersions(base, MAINLINE_FIX) >= 0 && rc === null;
  const backportsHidden = (flavor: KernelFlavor, name: string): KernelFixAssessment =>
    baseFixed
      ? {
          status: 'fixed',
          reason: `${name} kernel ${release} is based on ${series(base)}, at or after mainline 5.7, which has commit ea64d8d6c675`,
          flavor,
          upstream: base,
        }
      : {
          status: 'unknown',
          reason: `${name} kernel ${release} is based on ${fmt(base)}, before 5.7; ${name} backports fixes without changing that version, so only its changelog tells whether commit ea64d8d6c675 is in`,
          flavor,
          upstream: base,
        };

  // Oracle UEK (".el8uek") before RHEL's ".elN": both contain ".el".
  if (/\.el\d+uek\b/.test(rest)) return backportsHidden('oracle-uek', 'Oracle UEK');
  const el = /\.el(\d+)/.exec(rest);
  if (el) {
    if (base.major === 3 && base.minor === 10) {
      return {
        status: 'affected',
        reason: `RHEL/CentOS ${el[1]} kernel ${release}: RHEL 7 kernels (3.10.0-*) are reported affected (3.10.0-1127.8.2 still was) and no RHEL 7 build is known to carry commit ea64d8d6c675`,
        flavor: 'rhel',
        upstream: base,
      };
    }
    return backportsHidden('rhel', `RHEL ${el[1]}`);
  }

  const signature = k.signature?.trim() ?? '';
  const unameV = k.version?.trim() ?? '';
  const ubuntuName = /^-(\d+)(?:\.\d+)?-([a-z][a-z0-9-]*)$/.exec(rest);
  const isUbuntu =
    signature.startsWith('Ubuntu') || /\bUbuntu\b/.test(unameV) || (base.patch === 0 && ubuntuName !== null && UBUNTU_FLAVORS.test(ubuntuName[2]));
  if (isUbuntu) {
    if (baseFixed) return backportsHidden('ubuntu', 'Ubuntu');
    const abi = ubuntuName ? Number(ubuntuName[1]) : null;
    const fixedAbi = UBUNTU_FIX[series(base)];
    if (abi !== null && abi < 1000 && fixedAbi !== undefined) {
      const name = `${fmt(base)}-${fixedAbi}`;
      return abi >= fixedAbi
        ? {
            status: 'fixed',
            reason: `Ubuntu kernel ${release}: ABI ${abi} is at or after ${name}, Ubuntu's first build with commit ea64d8d6c675`,
            flavor: 'ubuntu',
            upstream: base,
          }
        : {
            status: 'affected',
            reason: `Ubuntu kernel ${release}: ABI ${abi} is before ${name}, Ubuntu's first build with commit ea64d8d6c675`,
            flavor: 'ubuntu',
            upstream: base,
          };
    }
    // /proc/version_signature: "Ubuntu 5.4.0-1018.18-aws 5.4.44": the last field is the
    // upstream stable release the build is based on; if that has the fix, so does the build.
    const sigUp = /\s(\d+\.\d+\.\d+)\s*$/.exec(signature);
    const up = sigUp ? parseKernelRelease(sigUp[1]) : null;
    if (up !== null) {
      const a = assessUpstream(up.version, null, 'ubuntu', `the upstream base of Ubuntu kernel ${release} (/proc/version_signature)`);
      if (a.status === 'fixed') return a;
    }
    return {
      status: 'unknown',
      reason: `Ubuntu kernel ${release}: no known Ubuntu build number with commit ea64d8d6c675 for this kernel line${up ? ` and its upstream base ${fmt(up.version)} has no fix` : ''}; check the changelog`,
      flavor: 'ubuntu',
      upstream: up?.version ?? base,
    };
  }

  const debianName = /^-(\d+)-([a-z0-9-]+)$/.exec(rest);
  const debianVersion = /\bDebian (\d+\.\d+(?:\.\d+)?)/.exec(unameV);
  if (debianVersion || (base.patch === 0 && debianName !== null && DEBIAN_FLAVORS.test(debianName[2]))) {
    const up = debianVersion ? parseKernelRelease(debianVersion[1]) : null;
    if (up !== null) return assessUpstream(up.version, null, 'debian', `Debian kernel ${release} (package version ${debianVersion?.[1] ?? ''} in uname -v)`);
    if (baseFixed) return backportsHidden('debian', 'Debian');
    return {
      status: 'unknown',
      reason: `Debian kernel ${release} names its ABI, not its upstream version (uname -v has it, e.g. "Debian 4.19.118-2"), and none was given`,
      flavor: 'debian',
      upstream: base,
    };
  }

  // SUSE: "5.3.18-24.9-default", "4.12.14-122.37-azure".
  if (/^-\d+(\.\d+)*-(default|azure|preempt|rt|kvmsmall|64kb)$/.test(rest)) return backportsHidden('suse', 'SUSE');

  return assessUpstream(base, rc, 'upstream', `kernel ${release}`);
}

export interface FactsRootOptions {
  /** Prefix for /proc and /sys paths (a fake tree in tests); default "/". */
  root?: string;
}

function readText(root: string, file: string): string | null {
  try {
    const s = fs.readFileSync(path.join(root, file), 'utf8').replace(/\0+$/, '').trim();
    return s.length > 0 ? s : null;
  } catch {
    return null;
  }
}

/** This kernel: uname -r / -v from libuv, Ubuntu's version signature, and the variant A
 * verdict. `release` / `version` override uname (for tests). */
export function readKernelFacts(opts: FactsRootOptions & { release?: string; version?: string | null } = {}): KernelFacts {
  const root = opts.root ?? '/';
  const release = opts.release ?? os.release();
  let version: string | null;
  if (opts.version !== undefined) version = opts.version;
  else {
    try {
      version = os.version();
    } catch {
      version = null;
    }
  }
  const signature = readText(root, 'proc/version_signature');
  return { release, version, signature, variantA: assessVariantAKernel({ release, version, signature }) };
}

// ================================================================== hypervisor

/** What the classification reads: the facts as found, before the verdict. */
export type HypervisorInputs = Omit<HypervisorFacts, 'kind' | 'platform' | 'evidence'>;

// The asset tag Azure puts on every VM (Microsoft's documentation for detecting Azure,
// also used by cloud-init's DataSourceAzure).
const AZURE_ASSET_TAG = '7783-7084-3265-9085-8269-3286-77';

interface VendorRule {
  test: (i: HypervisorInputs) => boolean;
  kind: HypervisorKind;
  platform: CloudPlatform | null;
  why: (i: HypervisorInputs) => string;
}

const eq = (a: string | null, b: string): boolean => a !== null && a.toLowerCase() === b.toLowerCase();
const has = (a: string | null, re: RegExp): boolean => a !== null && re.test(a);
const q = (s: string | null): string => `'${s ?? ''}'`;

// First match wins. SMBIOS strings as the hypervisors set them (systemd's
// src/basic/virt.c dmi_vendor_table lists the same vendors).
const VENDOR_RULES: VendorRule[] = [
  {
    test: (i) => has(i.sysVendor, /^VMware/i) || has(i.productName, /^VMware/i),
    kind: 'vmware',
    platform: null,
    why: (i) => `sys_vendor ${q(i.sysVendor)}, product_name ${q(i.productName)}`,
  },
  {
    test: (i) => eq(i.sysVendor, 'Amazon EC2') && has(i.productName, /\.metal$/),
    kind: 'none',
    platform: 'aws',
    why: (i) => `sys_vendor 'Amazon EC2', bare-metal instance type ${q(i.productName)}`,
  },
  {
    test: (i) => eq(i.sysVendor, 'Amazon EC2'),
    kind: 'kvm',
    platform: 'aws',
    why: (i) => `sys_vendor 'Amazon EC2' (Nitro, KVM-based), instance type ${q(i.productName)}`,
  },
  { test: (i) => has(i.biosVersion, /amazon/i), kind: 'xen', platform: 'aws', why: (i) => `bios_version ${q(i.biosVersion)} (Xen-based EC2)` },
  {
    test: (i) => eq(i.sysVendor, 'Microsoft Corporation') && (eq(i.productName, 'Virtual Machine') || eq(i.chassisAssetTag, AZURE_ASSET_TAG)),
    kind: 'hyperv',
    platform: null,
    why: (i) => `sys_vendor 'Microsoft Corporation', product_name ${q(i.productName)}`,
  },
  {
    test: (i) => eq(i.sysVendor, 'Google') || eq(i.productName, 'Google Compute Engine'),
    kind: 'kvm',
    platform: 'gce',
    why: (i) => `sys_vendor ${q(i.sysVendor)}, product_name ${q(i.productName)}`,
  },
  { test: (i) => eq(i.sysVendor, 'Alibaba Cloud'), kind: 'kvm', platform: 'alibaba', why: () => `sys_vendor 'Alibaba Cloud'` },
  { test: (i) => eq(i.sysVendor, 'DigitalOcean'), kind: 'kvm', platform: 'digitalocean', why: () => `sys_vendor 'DigitalOcean'` },
  { test: (i) => eq(i.sysVendor, 'Hetzner'), kind: 'kvm', platform: 'hetzner', why: () => `sys_vendor 'Hetzner'` },
  {
    test: (i) => eq(i.sysVendor, 'OpenStack Foundation') || has(i.productName, /^OpenStack (Nova|Compute)/i),
    kind: 'kvm',
    platform: 'openstack',
    why: (i) => `sys_vendor ${q(i.sysVendor)}, product_name ${q(i.productName)}`,
  },
  { test: (i) => eq(i.chassisAssetTag, 'OracleCloud.com'), kind: 'kvm', platform: 'oracle', why: () => `chassis_asset_tag 'OracleCloud.com'` },
  {
    test: (i) =>
      eq(i.sysVendor, 'QEMU') ||
      has(i.productName, /^(Standard PC \(|KVM\b|RHEV Hypervisor|oVirt Node|OpenShift Virtualization)/i) ||
      (eq(i.sysVendor, 'Nutanix') && eq(i.productName, 'AHV')),
    kind: 'kvm',
    platform: null,
    why: (i) => `sys_vendor ${q(i.sysVendor)}, product_name ${q(i.productName)} (QEMU/KVM)`,
  },
  {
    test: (i) => eq(i.sysVendor, 'innotek GmbH') || eq(i.productName, 'VirtualBox'),
    kind: 'virtualbox',
    platform: null,
    why: (i) => `sys_vendor ${q(i.sysVendor)}, product_name ${q(i.productName)}`,
  },
  { test: (i) => has(i.sysVendor, /^Parallels/i), kind: 'parallels', platform: null, why: (i) => `sys_vendor ${q(i.sysVendor)}` },
  {
    test: (i) => eq(i.productName, 'BHYVE') || eq(i.sysVendor, 'FreeBSD'),
    kind: 'bhyve',
    platform: null,
    why: (i) => `sys_vendor ${q(i.sysVendor)}, product_name ${q(i.productName)}`,
  },
  {
    test: (i) => eq(i.sysVendor, 'Xen') || eq(i.hypervisorType, 'xen'),
    kind: 'xen',
    platform: null,
    why: (i) => (eq(i.hypervisorType, 'xen') ? `/sys/hypervisor/type 'xen'` : `sys_vendor 'Xen'`),
  },
];

/**
 * The hypervisor from the DMI strings, /sys/hypervisor/type and the CPU flag (pure). null
 * when none of them is known. A vendor this table does not know is 'unknown' when the
 * CPU flag says "virtual machine", 'none' when the flag is clear.
 */
export function classifyHypervisor(i: HypervisorInputs): HypervisorFacts | null {
  const dmiKnown = i.sysVendor !== null || i.productName !== null || i.biosVendor !== null || i.biosVersion !== null || i.chassisAssetTag !== null;
  if (!dmiKnown && i.hypervisorType === null && i.cpuFlag === null) return null;
  let kind: HypervisorKind | null = null;
  let platform: CloudPlatform | null = null;
  const evidence: string[] = [];
  for (const rule of VENDOR_RULES) {
    if (!rule.test(i)) continue;
    kind = rule.kind;
    platform = rule.platform;
    evidence.push(rule.why(i));
    break;
  }
  if (kind === 'hyperv' && eq(i.chassisAssetTag, AZURE_ASSET_TAG)) {
    platform = 'azure';
    evidence.push(`chassis_asset_tag '${AZURE_ASSET_TAG}' (Azure)`);
  }
  if (kind === null) {
    if (i.cpuFlag === true) {
      kind = 'unknown';
      evidence.push(dmiKnown ? `CPU hypervisor flag set; DMI vendor ${q(i.sysVendor)} not recognised` : 'CPU hypervisor flag set; no DMI strings');
    } else if (i.cpuFlag === false && dmiKnown) {
      kind = 'none';
      evidence.push(`CPU hypervisor flag clear; DMI vendor ${q(i.sysVendor)}`);
    } else if (i.cpuFlag === false && i.hypervisorType === null) {
      return null;
    } else {
      kind = 'unknown';
      evidence.push(`DMI vendor ${q(i.sysVendor)} not recognised; CPU flag not available`);
    }
  } else if (i.cpuFlag !== null) {
    evidence.push(`CPU hypervisor flag ${i.cpuFlag ? 'set' : 'clear'}`);
  }
  return { kind, platform, ...i, evidence };
}

/** The `hypervisor` flag in the "flags" line of /proc/cpuinfo (x86: CPUID.1:ECX[31],
 * arch/x86/include/asm/cpufeatures.h X86_FEATURE_HYPERVISOR); null when the file has no
 * "flags" line (other architectures) or cannot be read. */
export function cpuHypervisorFlag(cpuinfo: string | null): boolean | null {
  if (cpuinfo === null) return null;
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  if (!line) return null;
  return line[1].split(/\s+/).includes('hypervisor');
}

/** Reads the hypervisor inputs under `root` (default "/") and classifies them. */
export function detectHypervisor(opts: FactsRootOptions = {}): HypervisorFacts | null {
  const root = opts.root ?? '/';
  const dmi = (f: string): string | null => readText(root, path.join('sys/class/dmi/id', f));
  return classifyHypervisor({
    sysVendor: dmi('sys_vendor'),
    productName: dmi('product_name'),
    biosVendor: dmi('bios_vendor'),
    biosVersion: dmi('bios_version'),
    chassisAssetTag: dmi('chassis_asset_tag'),
    hypervisorType: readText(root, 'sys/hypervisor/type'),
    cpuFlag: cpuHypervisorFlag(readText(root, 'proc/cpuinfo')),
  });
}
