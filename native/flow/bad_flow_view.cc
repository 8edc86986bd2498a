// \summary: The bad-flow view (bad_flow_view.h): an LRU of flows over an open-addressing
// index, fed with packed records, read by top().
#include "flow/bad_flow_view.h"

#include <algorithm>
#include <cstring>

namespace csumtop {

namespace {

// FNV-1a over the normalized key (flow/bad_flows.h), folded to 32 bits: bad frames are few
// next to the carriers the other tables fold, so simplicity beats speed here.
uint32_t key_hash(const ViewKey& k) {
  const uint64_t h = fnv1a(&k, sizeof k);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

// recordEndpointAt/endpointAt (src/native/records.ts, events.ts): an endpoint only for
// families 4 and 6; an IPv4 address is its first 4 bytes; ports only when decoded.
bool normalize_endpoint(const FlowEndpoint& e, FlowEndpoint* out) {
  std::memset(out, 0, sizeof *out);
  if (e.family != 4 && e.family != 6) return false;
  const size_t len = e.family == 6 ? 16 : 4;
  out->family = e.family;
  out->proto = e.proto;
  std::memcpy(out->src, e.src, len);
  std::memcpy(out->dst, e.dst, len);
  if (e.has_ports) {
    out->has_ports = 1;
    out->sport = e.sport;
    out->dport = e.dport;
  }
  return true;
}

// The key of a record, as decodeRecords reads it (isVniTunnel: VXLAN, Geneve and GRE with
// a key carry a VNI; TUNNELS names both GREs "gre", and a value past it reads as "none").
void key_of(const BadFrameRecord& r, ViewKey* k) {
  std::memset(k, 0, sizeof *k);
  k->iface = r.iface;
  k->has_outer = normalize_endpoint(r.outer, &k->outer);
  if (r.has_inner) {
    const uint8_t t = r.tunnel;
    k->tunnel = t == kTunnelGreKey  ? uint8_t{kTunnelGre}
                : t < kTunnelGreKey ? t
                                    : uint8_t{kTunnelNone};
    if (r.tunnel == kTunnelVxlan || r.tunnel == kTunnelGeneve || r.tunnel == kTunnelGreKey) {
      k->has_vni = 1;
      k->vni = r.vni;
    }
    k->has_inner = normalize_endpoint(r.inner, &k->inner);
  }
}

constexpr uint8_t kPacketOutgoing = 4;  // sll_pkttype PACKET_OUTGOING (linux/if_packet.h)

// The DNS name of frame `frame` among a batch's events: the last DNS event of that frame
// with a name. Events are in frame order (flow/events.h), and so are the batch's records:
// `*cur` is where the previous record's search ended, and the next one walks on from there
// (sequential reads), rather than searching the whole batch per record (the events of a
// batch are megabytes: each step of a binary search was a cache miss). A record before
// the cursor (never made, but not assumed) is searched for behind it.
bool dns_name_of(uint64_t frame, const FrameEvent* ev, size_t n, const char* names,
                 size_t names_len, size_t* cur, std::string* out) {
  size_t i = *cur;
  if (i > 0 && ev[i - 1].frame_number >= frame)
    i = static_cast<size_t>(
        std::lower_bound(ev, ev + i, frame,
                         [](const FrameEvent& e, uint64_t f) { return e.frame_number < f; }) -
        ev);
  while (i < n && ev[i].frame_number < frame) i++;
  *cur = i;
  bool found = false;
  for (; i < n && ev[i].frame_number == frame; ++i) {
    const FrameEvent& e = ev[i];
    if (!(e.flags & (kEvDnsQuery | kEvDnsAnswer)) || e.name_len == 0) continue;
    // As Buffer.toString(latin1, off, end) does, a name past the buffer is cut at its end.
    const size_t off = std::min<size_t>(e.name_off, names_len);
    const size_t end = std::min<size_t>(off + e.name_len, names_len);
    out->assign(names + off, end - off);
    found = true;
  }
  return found;
}

}  // namespace

BadFlowView::BadFlowView(uint32_t cap, uint32_t recent, uint32_t sampled_bytes_flows,
                         bool partial_is_offload, Residency r)
    : cap_(cap ? cap : 1),
      recent_(recent ? std::min<uint32_t>(recent, 255) : 1),
      sampled_bytes_flows_(sampled_bytes_flows),
      partial_is_offload_(partial_is_offload),
      flows_(cap_),
      frames_(static_cast<size_t>(cap_) * recent_, r),
      index_(cap_, r) {}

// A slot for an absent key, the most recently seen; in a full view the least recently seen
// flow goes (its DNS name and bytes with it, their memory kept for the next).
int32_t BadFlowView::new_flow(const ViewKey& k, uint32_t h) {
  int32_t s;
  if (used_ < cap_) {
    s = static_cast<int32_t>(used_++);
    size_++;
  } else {
    s = recency_.oldest;
    recency_.unlink(flows_, s);
    index_.remove(s, flows_[s].hash);
    evicted_++;
  }
  ViewFlow& f = flows_[s];
  f.key = k;
  f.hash = h;
  f.count = f.artefacts = f.first_ns = 0;
  f.n_recent = f.head = f.peer = f.n_names = 0;
  f.has_dns = f.has_bytes = false;
  f.bytes_stamp = -1;
  // Released, not only cleared: a cleared string keeps its capacity, and then every slot
  // would hold up to a frame's bytes, not only the newest samples (the bound, .h).
  std::string().swap(f.dns);
  std::string().swap(f.bytes);
  index_.insert(s, h);
  recency_.append(flows_, s);
  return s;
}

// The newest samples keep their bytes: between sampled_bytes_flows and twice that, trimmed
// in one pass when it doubles (an entry whose flow has since been given newer bytes, or
// whose slot another flow took, no longer matches its stamp and is passed over).
void BadFlowView::keep_bytes(int32_t s) {
  flows_[s].bytes_stamp = stamp_;
  with_bytes_.push_back(Stamped{s, stamp_++});
  if (with_bytes_.size() <= 2 * static_cast<size_t>(sampled_bytes_flows_)) return;
  const size_t drop = with_bytes_.size() - sampled_bytes_flows_;
  for (size_t k = 0; k < drop; k++) {
    ViewFlow& old = flows_[with_bytes_[k].slot];
    if (old.bytes_stamp == with_bytes_[k].stamp) {
      old.has_bytes = false;
      std::string().swap(old.bytes);  // released: only the newest samples hold bytes
    }
  }
  with_bytes_.erase(with_bytes_.begin(), with_bytes_.begin() + static_cast<ptrdiff_t>(drop));
}

void BadFlowView::add(const BadFrameRecord* records, size_t n, const uint8_t* bytes,
                      size_t bytes_len, const FrameEvent* events, size_t n_events,
                      const char* names, size_t names_len) {
  ViewKey k;
  size_t event_at = 0;
  for (size_t i = 0; i < n; i++) {
    const BadFrameRecord& r = records[i];
    key_of(r, &k);
    const uint32_t h = key_hash(k);
    int32_t s = index_.find(
        h, [&](int32_t slot) { return std::memcmp(&flows_[slot].key, &k, sizeof k) == 0; });
    const int nb = std::min<int>(r.n_bad, kMaxSampleChecksums);
    if (s < 0) {
      s = new_flow(k, h);
      ViewFlow& f = flows_[s];
      f.first_ns = r.ts_ns;
      if (k.has_outer && k.has_inner) f.peer = r.direction == kPacketOutgoing ? 2 : 1;
    } else {
      recency_.touch(flows_, s);
    }
    ViewFlow& f = flows_[s];
    for (int j = 0; j < nb; j++) {
      const uint8_t code =
          static_cast<uint8_t>((r.bad[j].depth == 0 ? 0 : 1) << 4 | (r.bad[j].kind & 15));
      if (std::find(f.names, f.names + f.n_names, code) == f.names + f.n_names)
        f.names[f.n_names++] = code;
    }
    // The flow's latest frames, oldest first; past `recent` the oldest goes.
    ViewFrame* fr;
    if (f.n_recent < recent_) {
      fr = frame_at(s, (f.head + f.n_recent++) % recent_);
    } else {
      fr = frame_at(s, f.head);
      f.head = static_cast<uint8_t>((f.head + 1) % recent_);
    }
    fr->frame_number = r.frame_number;
    fr->ts_ns = r.ts_ns;
    fr->caplen = r.caplen;
    fr->wirelen = r.wirelen;
    fr->direction = r.direction;
    fr->n_bad = static_cast<uint8_t>(nb);
    std::memcpy(fr->bad, r.bad, sizeof fr->bad);
    f.count++;
    if (partial_is_offload_ && nb > 0) {
      bool all = true;
      for (int j = 0; j < nb; j++) all = all && r.bad[j].looks_partial;
      if (all) f.artefacts++;
    }
    if (!f.has_dns)
      f.has_dns =
          dns_name_of(r.frame_number, events, n_events, names, names_len, &event_at, &f.dns);
    // The sample is the latest frame: its bytes, or none (recordBytes: none past the buffer).
    if (r.bytes_len != 0 && bytes && static_cast<size_t>(r.bytes_off) + r.bytes_len <= bytes_len) {
      f.bytes.assign(reinterpret_cast<const char*>(bytes) + r.bytes_off, r.bytes_len);
      f.has_bytes = true;
      keep_bytes(s);
    } else {
      f.has_bytes = false;
      std::string().swap(f.bytes);
    }
  }
}

void BadFlowView::top(size_t limit, ViewTop* out) const {
  out->rows.clear();
  out->records.clear();
  out->bytes.clear();
  out->names.clear();
  std::vector<int32_t> order;
  order.reserve(size_);
  for (int32_t s = recency_.oldest; s >= 0; s = flows_[s].newer) order.push_back(s);
  // Most frames first; equal counts keep the recency order (Array.prototype.sort is stable).
  std::stable_sort(order.begin(), order.end(),
                   [this](int32_t a, int32_t b) { return flows_[a].count > flows_[b].count; });
  if (order.size() > limit) order.resize(limit);
  for (int32_t s : order) {
    const ViewFlow& f = flows_[s];
    ViewRow row;
    std::memset(&row, 0, sizeof row);
    row.count = f.count;
    row.artefacts = f.artefacts;
    row.first_ns = f.first_ns;
    row.iface = f.key.iface;
    row.has_dns = f.has_dns;
    row.dns_off = static_cast<uint32_t>(out->names.size());
    row.dns_len = static_cast<uint16_t>(f.dns.size());
    out->names += f.dns;
    row.peer = f.peer;
    row.n_names = f.n_names;
    std::memcpy(row.names, f.names, f.n_names);
    row.n_recent = f.n_recent;
    out->rows.push_back(row);
    for (int j = 0; j < f.n_recent; j++) {
      const ViewFrame& fr = *frame_at(s, (f.head + j) % recent_);
      BadFrameRecord r;
      std::memset(&r, 0, sizeof r);
      r.frame_number = fr.frame_number;
      r.ts_ns = fr.ts_ns;
      r.iface = f.key.iface;
      r.caplen = fr.caplen;
      r.wirelen = fr.wirelen;
      r.vni = f.key.vni;
      // The key's tunnel reads back as the same name and VNI: GRE with a VNI is GRE with a key.
      r.tunnel =
          f.key.tunnel == kTunnelGre && f.key.has_vni ? uint8_t{kTunnelGreKey} : f.key.tunnel;
      r.has_inner = f.key.tunnel != kTunnelNone || f.key.has_inner || f.key.has_vni;
      r.n_bad = fr.n_bad;
      r.outer = f.key.outer;
      r.inner = f.key.inner;
      std::memcpy(r.bad, fr.bad, sizeof r.bad);
      r.direction = fr.direction;
      if (j == f.n_recent - 1 && f.has_bytes) {
        r.bytes_off = static_cast<uint32_t>(out->bytes.size());
        r.bytes_len = static_cast<uint32_t>(f.bytes.size());
        out->bytes += f.bytes;
      }
      out->records.push_back(r);
    }
  }
}

std::vector<uint32_t> BadFlowView::interfaces() const {
  std::vector<uint32_t> out;
  for (int32_t s = recency_.oldest; s >= 0; s = flows_[s].newer) out.push_back(flows_[s].key.iface);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace csumtop
