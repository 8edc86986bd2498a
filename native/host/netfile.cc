// \summary: /proc/thread-self/net/{snmp,snmp6,netstat} read on a thread that has
// entered the wanted network namespace.
#include "host/netfile.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "host/netns.h"

namespace csumtop {
namespace host {

namespace {

// Larger than any of the three files on current kernels (netstat is ~4 KiB, snmp6
// ~6 KiB); a file that keeps growing past this is cut off with an error rather than
// read forever.
constexpr size_t kMaxBytes = 1u << 20;

std::string read_all(int fd, const std::string& path, std::string* out) {
  // seq_file (fs/seq_file.c) hands out whole records per read(2) and signals the end with
  // a 0 return; st_size is 0 for these files, so read until EOF.
  char buf[16384];
  out->clear();
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return std::string();
    if (n < 0) {
      if (errno == EINTR) continue;
      return "cannot read " + path + ": " + std::strerror(errno);
    }
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > kMaxBytes) return path + " is larger than 1 MiB: refusing to read on";
  }
}

}  // namespace

bool is_known_net_file(const std::string& name) {
  return name == "snmp" || name == "snmp6" || name == "netstat";
}

std::string read_net_file(const std::string& name, std::string* content, bool* present) {
  *present = false;
  if (!is_known_net_file(name)) return "unknown /proc/net file: " + name;
  // Why /proc/thread-self and not /proc/self: a network namespace belongs to a thread
  // (setns(2) with CLONE_NEWNET moves only the caller), but /proc/self is the thread
  // group, /proc/<tgid>, whose net/ directory shows the namespace of the thread group
  // leader, i.e. Node's main thread (fs/proc/base.c proc_self_get_link returns the tgid;
  // fs/proc/proc_net.c get_proc_task_net() takes the namespace of that task). A worker
  // thread that entered another namespace would read the host's counters through
  // /proc/self/net. /proc/thread-self (Linux 3.17, fs/proc/thread_self.c) resolves to
  // /proc/<tgid>/task/<tid>, whose net/ is this thread's namespace. Older kernels get
  // the same directory spelled out with gettid(2).
  std::string path = "/proc/thread-self/net/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && ::access("/proc/thread-self", F_OK) != 0) {
    const long tid = ::syscall(SYS_gettid);
    path = "/proc/self/task/" + std::to_string(tid) + "/net/" + name;
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    const int err = errno;
    // ENOENT: the kernel has no such file in this namespace (snmp6 without IPv6).
    if (err == ENOENT) return std::string();
    return "cannot open " + path + ": " + std::strerror(err);
  }
  std::string err = read_all(fd, path, content);
  ::close(fd);
  if (!err.empty()) return err;
  *present = true;
  return std::string();
}

NetnsError read_net_file_in(const std::string& netns_path, const std::string& label,
                            const std::string& name, std::string* content, bool* present) {
  *present = false;
  if (!is_known_net_file(name)) return "unknown /proc/net file: " + name;
  return run_in_netns(netns_path, label, [&]() { return read_net_file(name, content, present); });
}

}  // namespace host
}  // namespace csumtop
