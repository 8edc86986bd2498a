/**
 * Remedy steps with this host's interface names, and how to make each survive a reboot
 * (docs/domain.md, "Remedies, with the conditions they need"). Interface names reach these
 * strings only as command text to show; csumtop never runs them.
 */
import type { RemedyStep } from '../model/findings.js';

/**
 * `s` as one word a POSIX shell reads back verbatim. Remedies are meant to be pasted into
 * a shell, and interface and namespace names come from outside: Linux refuses only '/',
 * ':' and whitespace in an interface name (dev_valid_name, net/core/dev.c), so
 * `x$(id)`, `a;b` or a backtick are valid names. Plain names stay as they are.
 */
export function shellWord(s: string): string {
  if (/^[A-Za-z0-9_.,:+@%=/-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A udev rule re-applying an ethtool setting whenever the device appears (docs/domain.md). */
export function udevPersist(dev: string, ethtoolArgs: string): string {
  // A udev match value is a glob inside double quotes, and RUN is split on spaces by udev
  // itself: a name with anything else cannot be written into a rule safely.
  if (!/^[A-Za-z0-9_.-]+$/.test(dev)) {
    return `no udev rule: the name ${shellWord(dev)} has characters a udev rule cannot match literally; re-apply the command at boot another way`;
  }
  return (
    `/etc/udev/rules.d/90-csumtop-${dev.replace(/[^A-Za-z0-9_.-]/g, '_')}.rules: ` +
    `SUBSYSTEM=="net", ACTION=="add", ENV{INTERFACE}=="${dev}", RUN+="/usr/sbin/ethtool -K ${dev} ${ethtoolArgs}"`
  );
}

export function txChecksumOff(where: string, dev: string, why: string): RemedyStep {
  return {
    where,
    command: `ethtool -K ${shellWord(dev)} tx-checksum-ip-generic off`,
    why,
    persist: udevPersist(dev, 'tx-checksum-ip-generic off'),
  };
}

/** What the common CNIs name their tunnel devices (docs/domain.md, "Interface roles on a node"). */
const DEVICE_NAMES: Record<string, string> = {
  VXLAN: 'flannel.1 with flannel, vxlan.calico with Calico, cilium_vxlan with Cilium',
  Geneve: 'genev_sys_6081 with OVN, cilium_geneve with Cilium',
  'IP-in-IP': 'tunl0 with Calico',
};

/**
 * The same step for a device csumtop cannot name: on another node (a capture file names
 * only the capturing node's devices) the command says which kind of device to use.
 */
export function txChecksumOffUnnamed(where: string, kind: string, why: string): RemedyStep {
  const names = DEVICE_NAMES[kind];
  return {
    where,
    command: `ethtool -K <its ${kind} device> tx-checksum-ip-generic off`,
    why: names ? `${why}; the device is ${names}` : why,
    persist: 'a udev rule running the same ethtool command when that device appears (ENV{INTERFACE}=="<its name>")',
  };
}

/** vmxnet3's tunnel offloads off; `dev` null: the NIC is on a node csumtop cannot see. */
export function tunnelSegmentationOff(where: string, dev: string | null): RemedyStep {
  const args = 'tx-udp_tnl-segmentation off tx-udp_tnl-csum-segmentation off';
  return {
    where,
    command: `ethtool -K ${dev === null ? '<its vmxnet3 NIC>' : shellWord(dev)} ${args}`,
    why: 'vmxnet3 v4 computes VXLAN checksums itself; with these offloads off the kernel does (calico#4727, k3s#5013)',
    persist: dev === null ? `a udev rule running the same ethtool command when that NIC appears` : udevPersist(dev, args),
  };
}

const FIXED_KERNELS = '5.7, 5.6.13, 5.4.41, 4.19.123 or 4.14.181 (Ubuntu 4.15.0-107 / 5.4.0-32)';

/**
 * The kernel fix of variant A, linux ea64d8d6c675 "netfilter: nat: never update the UDP
 * checksum when it's 0": it only helps carriers sent with a zero outer checksum
 * (noudpcsum). With udpcsum, NAT of a carrier still leaves a wrong outer checksum on
 * current kernels (nf_nat skips the update of a CHECKSUM_PARTIAL skb; measured on 6.18
 * by test/lab/diagnosis-rules.test.ts), so it is never offered for that cause.
 * 'needed': the sender's kernel is known to lack the fix; 'conditional': the sender's
 * kernel or udpcsum setting is not known here, so the step says what to check first.
 */
export function kernelUpgrade(where: string, when: 'needed' | 'conditional'): RemedyStep {
  const why = 'linux commit ea64d8d6c675 "netfilter: nat: never update the UDP checksum when it\'s 0"; it does not help a device with udpcsum';
  return when === 'needed'
    ? { where, command: `upgrade the kernel to >= ${FIXED_KERNELS}`, why, persist: null }
    : {
        where,
        command: `only if uname -r there is older than the fixed ${FIXED_KERNELS} and ip -d link show <its VXLAN device> says noudpcsum (a zero outer checksum): upgrade the kernel`,
        why,
        persist: null,
      };
}

/**
 * A check, not a fix: the counter that grows when a kernel drops packets for a bad
 * checksum (net/ipv4/udp.c csum_error), on a node csumtop does not see.
 */
export function peerCounterCheck(where: string, proto: 'Udp'): RemedyStep {
  return {
    where,
    command: `nstat -az ${proto}InCsumErrors`,
    why: 'check: it grows when that kernel drops these packets for the bad checksum (run it twice)',
    persist: null,
  };
}
export const KUBE_PROXY_UPGRADE: RemedyStep = {
  where: 'the cluster',
  command: 'upgrade kube-proxy to >= 1.19, 1.18.6, 1.17.9 or 1.16.13; check with: iptables-save -t nat | grep -- "--xor-mark 0x4000"',
  why: 'kubernetes/kubernetes#92035 clears the masquerade mark before MASQUERADE, so carriers are not NATed again',
  persist: null,
};
