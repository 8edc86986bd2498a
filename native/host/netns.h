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
#include <utility>

namespace csumtop {
namespace host {

// Identity of a namespace: the nsfs inode behind the file (fs/nsfs.c). Two paths name
// the same namespace iff st_dev and st_ino are equal (the rule `ip netns identify` uses).
struct NetnsIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
};

// Why work in a namespace failed: the message users read and, when opening or entering
// the namespace itself failed, that call's errno (stat(2)/open(2)/setns(2); 0 when the
// work's own step failed, or for a usage error). Callers decide "not allowed" (EPERM,
// EACCES) from "no such namespace" (ENOENT) by the number, never by reading the message
// (issue 15), as the capture ring does for CAP_NET_RAW (capture/packet_ring.h).
// An empty message means success.
struct NetnsError {
  std::string message;
  int sys_errno = 0;

  NetnsError() = default;
  // The work's own failure (no errno of the namespace step).
  NetnsError(std::string m) : message(std::move(m)) {}  // NOLINT: implicit on purpose
  NetnsError(std::string m, int e) : message(std::move(m)), sys_errno(e) {}
  bool empty() const { return message.empty(); }
};

// stat(2)s `path` (e.g. /run/netns/NAME, /proc/PID/ns/net). Returns success and fills
// `out`, or a message naming `label` (the namespace as the user wrote it; `path` if
// empty) with stat's errno.
NetnsError netns_identity(const std::string& path, const std::string& label, NetnsIdentity* out);

// "dev:ino", both decimal.
std::string format_identity(const NetnsIdentity& id);

// Runs `fn` on a new thread that has entered the network namespace at `path`, and waits
// for it. `fn` returns "" on success or an error message, which is passed through
// (sys_errno 0). Errors of its own carry their errno and name `label` (what the user
// wrote; `path` if empty):
//   ENOENT, ENOTDIR  "no such network namespace: LABEL"
//   EACCES, EPERM    "permission denied opening network namespace LABEL ..." (open(2))
//   EPERM            "need CAP_SYS_ADMIN to enter network namespace LABEL ..." (setns(2))
//   EINVAL           "not a network namespace: LABEL ..." (another kind of ns file, or a
//                    file that is not a namespace at all, e.g. an unmounted /run/netns/NAME)
// An empty `path` runs `fn` on the calling thread, in the current namespace.
NetnsError run_in_netns(const std::string& path, const std::string& label,
                        const std::function<std::string()>& fn);

}  // namespace host
}  // namespace csumtop
