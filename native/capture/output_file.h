// \summary: Creating a file that will hold captured frames, safely: as root, in a
// directory other users can write (/tmp), from a process that may also be reading the
// capture the file is named after.
//
// Rules (issue 17, items 1 and 2):
//  - The file is always a new inode, created with O_CREAT|O_EXCL|O_NOFOLLOW mode 0600:
//    a symlink at the path is never followed, and nothing another user prepared there
//    (a file they own and can read, a descriptor they opened earlier on an older file)
//    ever sees the frames written.
//  - An existing path is replaced only when asked (`replace`: -w, tcpdump's behaviour)
//    and only when it is a regular file owned by our effective uid: it is unlinked, then
//    created again with O_EXCL. In a sticky directory (/tmp, mode 1777) no other user can
//    rename or remove a file we own (the sticky bit, path_resolution(7)), so the file we
//    checked is the one we unlink; if another user recreates the name in between, the
//    O_EXCL create fails and the new file is examined (and refused) like the first.
//    A file owned by another user is refused, never written, truncated or removed.
//  - A path that is the same file (device and inode, so any spelling, hard link or
//    symlink of it) as one being read is refused before anything is written: writing it
//    would destroy the evidence being analysed.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace csumtop {

// A file's identity: what stat(2) says, not how it is spelled.
struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileIdentity& o) const { return dev == o.dev && ino == o.ino; }
};

struct OutputFileOptions {
  // An existing regular file we own may be replaced (unlinked and created again).
  bool replace = false;
  // Files that must not be written: the inputs being read.
  std::vector<FileIdentity> inputs;
};

// Refuses (false, *err) when `path` names one of `inputs`, following symlinks. Used
// before reading starts, so that the refusal comes before any output; create_output_file
// checks again on the file it is about to replace.
bool check_not_input(const std::string& path, const std::vector<FileIdentity>& inputs,
                     std::string* err);

// The same examination of an existing `path` that create_output_file makes, without
// creating anything: lets -r refuse before it reads (true: absent, or replaceable).
bool check_output_path(const std::string& path, const OutputFileOptions& opts, std::string* err);

// Creates `path` for writing (O_WRONLY|O_CLOEXEC, mode 0600, blocking) by the rules
// above. Returns the descriptor, or -1 with *err saying why (a sentence naming path).
int create_output_file(const std::string& path, const OutputFileOptions& opts, std::string* err);

}  // namespace csumtop
