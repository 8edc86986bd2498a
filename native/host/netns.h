// \summary: Run a function inside another network namespace without disturbing the
// calling thread, and tell whether two namespace files name the same namespace.
//
// A network namespace is a per-task attribute (setns(2): "CLONE_NEWNET ... the calling
// thread"), so a short-lived std::thread can enter it with setns(fd, CLONE_NEWNET), open
// sockets there (a socket stays bound to the namespace it was created in, include/net/
// sock.h sk_net), do its work and exit; the calling thread (the Node main thread) never
// changes namespace. Plain C++17, no Node; no exception leaves these functions.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace csumtop {
namespace host {

// Identity of a namespace: the nsfs inode behind the file (fs/nsfs.c). Two paths name
// the same namespace iff st_dev and st_ino are equal (the rule `ip netns identify` uses).
struct NetnsIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
};

// stat(2)s `path` (e.g. /run/netns/NAME, /proc/PID/ns/net). Returns "" and fills `out`,
// or a message naming `label` (the namespace as the user wrote it; `path` if empty).
std::string netns_identity(const std::string& path, const std::string& label, NetnsIdentity* out);

// "dev:ino", both decimal.
std::string format_identity(const NetnsIdentity& id);

// Runs `fn` on a new thread that has entered the network namespace at `path`, and waits
// for it. `fn` returns "" on success or an error message, which is passed through.
// Errors of its own name `label` (what the user wrote; `path` if empty):
//   ENOENT       "no such network namespace: LABEL"
//   EPERM        "need CAP_SYS_ADMIN to enter network namespace LABEL ..."
//   EINVAL       "not a network namespace: LABEL ..." (another kind of ns file, or a file
//                that is not a namespace at all, e.g. an unmounted /run/netns/NAME)
// An empty `path` runs `fn` on the calling thread, in the current namespace.
std::string run_in_netns(const std::string& path, const std::string& label,
                         const std::function<std::string()>& fn);

}  // namespace host
}  // namespace csumtop
