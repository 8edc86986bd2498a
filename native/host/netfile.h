// \summary: Read one of the kernel's per-network-namespace /proc/net counter files
// (snmp, snmp6, netstat) as seen from a given network namespace.
//
// /proc/net/snmp and friends are per namespace: net/ipv4/proc.c and net/ipv6/proc.c
// register them with proc_create_net_single() in each struct net, and procfs shows the
// instance of the namespace of the task the /proc/<pid> directory belongs to
// (fs/proc/proc_net.c get_proc_task_net()). Plain C++17, no Node; errors are returned as
// strings, no exception leaves here.
#pragma once
#include <string>

#include "host/netns.h"

namespace csumtop {
namespace host {

// The files read_net_file() accepts: a fixed list, so a caller cannot name any other
// path under /proc (the name is appended to a directory).
//   snmp     Ip, Icmp, IcmpMsg, Tcp, Udp, UdpLite: "Name: f1 f2 ..." / "Name: v1 v2 ..."
//   snmp6    Ip6*, Icmp6*, Udp6*, UdpLite6*: one "NameValue  N" per line; absent when
//            IPv6 is disabled (ipv6.disable=1) or not built
//   netstat  TcpExt, IpExt, MPTcpExt: the same two-line format as snmp
bool is_known_net_file(const std::string& name);

// Reads /proc/thread-self/net/NAME on the calling thread. Returns "" and sets *present
// (and *content when present); a file the kernel does not have (ENOENT) is not an error:
// *present = false. Any other failure is returned as a message.
std::string read_net_file(const std::string& name, std::string* content, bool* present);

// read_net_file() on a thread inside the network namespace at `netns_path` (see
// netns.h run_in_netns: errors entering it carry their errno; "" = the caller's
// namespace). `label` names it in errors.
NetnsError read_net_file_in(const std::string& netns_path, const std::string& label,
                            const std::string& name, std::string* content, bool* present);

}  // namespace host
}  // namespace csumtop
