// \summary: create_output_file, check_output_path and check_not_input (see output_file.h).
#include "capture/output_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace csumtop {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

bool is_input(const struct stat& st, const std::vector<FileIdentity>& inputs) {
  for (const FileIdentity& id : inputs) {
    if (id.dev == st.st_dev && id.ino == st.st_ino) return true;
  }
  return false;
}

std::string input_refusal(const std::string& path) {
  return "refusing to write to " + path +
         ": it is the capture file being read (the same file, by device and inode); "
         "choose another -w name";
}

// Unlinking and creating again can lose a race to another process creating the name
// each time; after this many rounds give up rather than loop.
constexpr int kCreateAttempts = 4;

// An existing path (lstat `st`): true when `opts` allow replacing it.
bool may_replace(const std::string& path, const struct stat& st, const OutputFileOptions& opts,
                 std::string* err) {
  if (S_ISLNK(st.st_mode)) {
    if (!check_not_input(path, opts.inputs, err)) return false;
    *err = "cannot create " + path + ": it is a symbolic link (refusing to follow it)";
    return false;
  }
  if (is_input(st, opts.inputs)) {
    *err = input_refusal(path);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *err = "refusing to write to " + path + ": it exists and is not a regular file";
    return false;
  }
  if (st.st_uid != ::geteuid()) {
    // Root included: the owner could read what we write (or already holds it open).
    *err = "refusing to write to " + path + ": it exists and belongs to uid " +
           std::to_string(st.st_uid) + ", not to us (uid " + std::to_string(::geteuid()) +
           "); remove it or choose another name";
    return false;
  }
  if (!opts.replace) {
    *err = "cannot create " + path + ": it exists (not replaced)";
    return false;
  }
  return true;
}

}  // namespace

bool check_output_path(const std::string& path, const OutputFileOptions& opts, std::string* err) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return true;  // absent (or unreachable: create says why)
  return may_replace(path, st, opts, err);
}

bool check_not_input(const std::string& path, const std::vector<FileIdentity>& inputs,
                     std::string* err) {
  struct stat st;
  // stat, not lstat: a symlink to the input is the input too (it is refused later
  // anyway, as a symlink, but this message says what it would have destroyed).
  if (::stat(path.c_str(), &st) == 0 && is_input(st, inputs)) {
    *err = input_refusal(path);
    return false;
  }
  return true;
}

int create_output_file(const std::string& path, const OutputFileOptions& opts, std::string* err) {
  for (int attempt = 0; attempt < kCreateAttempts; attempt++) {
    // O_EXCL with O_CREAT also fails (EEXIST) on a symlink, dangling or not (open(2)).
    // O_NONBLOCK is irrelevant for a new regular file; kept out.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      // The umask may have taken bits away (0600 & ~umask); it never adds any. Make it
      // exactly 0600 so that we can write and nobody else can read.
      struct stat st;
      if (::fstat(fd, &st) != 0 || ((st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0)) {
        const int e = errno;
        ::close(fd);
        (void)::unlink(path.c_str());
        *err = "cannot set mode 0600 on " + path + ": " + errno_text(e);
        return -1;
      }
      return fd;
    }
    const int e = errno;
    if (e != EEXIST) {
      *err = "cannot create " + path + ": " + errno_text(e);
      return -1;
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // removed meanwhile: create it
      *err = "cannot create " + path + ": " + errno_text(errno);
      return -1;
    }
    if (!may_replace(path, st, opts, err)) return -1;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      *err = "cannot replace " + path + ": " + errno_text(errno) +
             " (an existing file is removed and created again, which needs write access to "
             "its directory)";
      return -1;
    }
  }
  *err = "cannot create " + path + ": another process keeps creating it";
  return -1;
}

}  // namespace csumtop
