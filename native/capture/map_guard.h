// \summary: Keeps a mapped capture file that shrinks under the reader (truncated by
// another process) from killing the process with SIGBUS.
//
// Reading a page of a file mapping that lies past the file's current end raises SIGBUS.
// A process-wide handler, installed with the first guarded mapping and chained to the
// handler that was there before, checks whether the address falls in a guarded mapping;
// if so it maps zero pages over the rest of that mapping, so that the read (retried on
// return) and every later one see zeros, and marks the mapping: the reader then reports
// the file as truncated while it was being read. Any other SIGBUS goes to the previous
// handler, or ends the process as it would have without this one.
#pragma once
#include <atomic>
#include <cstddef>

namespace csumtop {
namespace mapguard {

// Guards [begin, begin + len) (page aligned); returns a slot, or -1 when the handler
// cannot be installed or every slot is taken (then the caller should not map).
int add(void* begin, size_t len);
// Stops guarding (before the mapping is unmapped).
void remove(int slot);
// True once a read past the file's end was caught in the mapping of `slot`.
bool hit(int slot);
// The flag behind hit(), to test it without a call (valid while the slot is held).
const std::atomic<bool>* hit_flag(int slot);

}  // namespace mapguard
}  // namespace csumtop
