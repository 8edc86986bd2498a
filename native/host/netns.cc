// \summary: setns(2) on a short-lived thread; namespace identity from stat(2) of the
// nsfs file.
#include "host/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>
#include <thread>

namespace csumtop {
namespace host {

namespace {

const std::string& name_of(const std::string& path, const std::string& label) {
  return label.empty() ? path : label;
}

// " (PATH)" when the user wrote a name that we resolved to a path, so both show up.
std::string where(const std::string& path, const std::string& label) {
  if (label.empty() || label == path) return std::string();
  return " (" + path + ")";
}

NetnsError open_error(int err, const std::string& path, const std::string& label) {
  const std::string& n = name_of(path, label);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return {"no such network namespace: " + n + where(path, label), err};
    case EACCES:
    case EPERM:
      return {"permission denied opening network namespace " + n + where(path, label) +
                  " (need root or CAP_SYS_ADMIN)",
              err};
    default:
      return {"cannot open network namespace " + n + where(path, label) + ": " + std::strerror(err),
              err};
  }
}

NetnsError setns_error(int err, const std::string& path, const std::string& label) {
  const std::string& n = name_of(path, label);
  if (err == EPERM)
    return {"need CAP_SYS_ADMIN to enter network namespace " + n + where(path, label) +
                " (run as root)",
            err};
  if (err == EINVAL)
    return {"not a network namespace: " + n + where(path, label) +
                " (an unmounted /run/netns entry or another kind of namespace file)",
            err};
  return {"cannot enter network namespace " + n + where(path, label) + ": " + std::strerror(err),
          err};
}

}  // namespace

std::string format_identity(const NetnsIdentity& id) {
  return std::to_string(id.dev) + ":" + std::to_string(id.ino);
}

NetnsError netns_identity(const std::string& path, const std::string& label, NetnsIdentity* out) {
  struct stat st;
  if (path.empty()) return NetnsError("network namespace path is empty");
  if (::stat(path.c_str(), &st) != 0) return open_error(errno, path, label);
  out->dev = static_cast<uint64_t>(st.st_dev);
  out->ino = static_cast<uint64_t>(st.st_ino);
  return NetnsError();
}

NetnsError run_in_netns(const std::string& path, const std::string& label,
                        const std::function<std::string()>& fn) {
  if (path.empty()) {
    try {
      return fn();
    } catch (const std::exception& e) {
      return std::string("internal error: ") + e.what();
    } catch (...) {
      return NetnsError("internal error");
    }
  }
  // Opened on the calling thread: opening needs no namespace change and the error is
  // reported before a thread exists.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return open_error(errno, path, label);

  NetnsError result;
  auto body = [&]() noexcept {
    // setns(2): CLONE_NEWNET moves only the calling thread. The kernel checks that fd
    // refers to a network namespace (EINVAL otherwise) and that the caller has
    // CAP_SYS_ADMIN in its own user namespace and in the target's (EPERM otherwise).
    if (::setns(fd, CLONE_NEWNET) != 0) {
      result = setns_error(errno, path, label);
      return;
    }
    try {
      result = fn();
    } catch (const std::exception& e) {
      result = std::string("internal error: ") + e.what();
    } catch (...) {
      result = std::string("internal error");
    }
  };
  try {
    std::thread t(body);
    t.join();
  } catch (const std::system_error& e) {
    result = std::string("cannot start a thread to enter network namespace ") +
             name_of(path, label) + ": " + e.what();
  }
  ::close(fd);
  return result;
}

}  // namespace host
}  // namespace csumtop
