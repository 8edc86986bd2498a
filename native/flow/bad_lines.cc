// \summary: The --json `bad` line of a bad-frame record (bad_lines.h), written straight into
// the batch's output buffer: no allocation per line once the buffer has grown.
#include "flow/bad_lines.h"

#include <charconv>

namespace csumtop {

namespace {

void put(std::string* out, std::string_view s) { out->append(s.data(), s.size()); }

void put_uint(std::string* out, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

// Fixed width, zero-padded (dates and the nanoseconds).
void put_padded(std::string* out, uint64_t v, int width) {
  char buf[24];
  for (int i = width - 1; i >= 0; i--) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out->append(buf, width);
}

void put_hex(std::string* out, uint16_t v) {
  static const char kDigits[] = "0123456789abcdef";
  char buf[4];
  int n = 0;
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const int d = (v >> shift) & 0xf;
    if (d || started || shift == 0) {
      buf[n++] = kDigits[d];
      started = true;
    }
  }
  out->append(buf, n);
}

// Days since 1970-01-01 to the proleptic Gregorian date (H. Hinnant, "chrono-Compatible
// Low-Level Date Algorithms", civil_from_days), as JavaScript's Date does (ECMA-262 21.4.1).
void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

// endpointJson in json-lines.ts over endpointAt in src/native/events.ts: a family byte
// other than 6 reads as IPv4 there, and ports are null when the transport was not decoded.
void put_endpoint(std::string* out, const FlowEndpoint& e) {
  const bool v6 = e.family == 6;
  put(out, v6 ? "{\"family\":6,\"src\":\"" : "{\"family\":4,\"src\":\"");
  append_address(v6, e.src, out);
  put(out, "\",\"dst\":\"");
  append_address(v6, e.dst, out);
  put(out, "\",\"proto\":");
  put_uint(out, e.proto);
  if (e.has_ports) {
    put(out, ",\"sport\":");  // host order, as the record was written on this host
    put_uint(out, e.sport);
    put(out, ",\"dport\":");
    put_uint(out, e.dport);
    out->push_back('}');
  } else {
    put(out, ",\"sport\":null,\"dport\":null}");
  }
}

// recordEndpointAt (src/native/records.ts): an endpoint only when the layer had IP.
void put_endpoint_or_null(std::string* out, const FlowEndpoint& e, bool present) {
  if (present && (e.family == 4 || e.family == 6))
    put_endpoint(out, e);
  else
    put(out, "null");
}

// A name of one of the tables, or what JavaScript writes for an index past its end
// (`${undefined}`): records never hold one, the text stays the same if one did.
std::string_view name_at(const std::vector<std::string>& table, size_t i) {
  return i < table.size() ? std::string_view(table[i]) : std::string_view("undefined");
}

}  // namespace

void append_time_ns(uint64_t ns, std::string* out) {
  const uint64_t sec = ns / 1000000000u;
  const uint64_t frac = ns % 1000000000u;
  int64_t y;
  unsigned mo, d;
  civil_from_days(static_cast<int64_t>(sec / 86400), &y, &mo, &d);
  const unsigned s = static_cast<unsigned>(sec % 86400);
  // uint64 nanoseconds end in 2554: always a four-digit year, as toISOString writes it.
  put_padded(out, static_cast<uint64_t>(y), 4);
  out->push_back('-');
  put_padded(out, mo, 2);
  out->push_back('-');
  put_padded(out, d, 2);
  out->push_back('T');
  put_padded(out, s / 3600, 2);
  out->push_back(':');
  put_padded(out, s / 60 % 60, 2);
  out->push_back(':');
  put_padded(out, s % 60, 2);
  out->push_back('.');
  put_padded(out, frac, 9);
  out->push_back('Z');
}

void append_address(bool v6, const uint8_t* a, std::string* out) {
  if (!v6) {
    for (int i = 0; i < 4; i++) {
      if (i) out->push_back('.');
      put_uint(out, a[i]);
    }
    return;
  }
  uint16_t g[8];
  for (int i = 0; i < 8; i++) g[i] = static_cast<uint16_t>(a[2 * i] << 8 | a[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) j++;
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best == 0 && best_len == 5 && g[5] == 0xffff) {
    put(out, "::ffff:");
    append_address(false, a + 12, out);
    return;
  }
  for (int i = 0; i < 8; i++) {
    if (i == best) {
      put(out, "::");
      i += best_len - 1;
      continue;
    }
    if (i > 0 && i != best + best_len) out->push_back(':');
    put_hex(out, g[i]);
  }
}

void append_bad_line(const BadFrameRecord& r, std::string_view iface_json,
                     const BadLineNames& names, std::string* out) {
  put(out, "{\"type\":\"bad\",\"version\":");
  put_uint(out, names.version);
  put(out, ",\"frame\":");
  put_uint(out, r.frame_number);
  put(out, ",\"interface\":");
  if (iface_json.empty()) {
    put(out, "\"#");
    put_uint(out, r.iface);
    out->push_back('"');
  } else {
    put(out, iface_json);
  }
  put(out, ",\"time\":\"");
  append_time_ns(r.ts_ns, out);
  put(out, "\",\"caplen\":");
  put_uint(out, r.caplen);
  put(out, ",\"wirelen\":");
  put_uint(out, r.wirelen);
  put(out, ",\"outer\":");
  put_endpoint_or_null(out, r.outer, true);
  // records.ts: without an inner layer the tunnel is 'none', the VNI and inner null; a
  // tunnel value past the table reads as 'none' (TUNNELS[t] ?? 'none').
  const bool inner = r.has_inner != 0;
  put(out, ",\"tunnel\":\"");
  put(out, inner && r.tunnel < names.tunnels.size() ? std::string_view(names.tunnels[r.tunnel])
                                                    : name_at(names.tunnels, 0));
  put(out, "\",\"vni\":");
  // isVniTunnel: VXLAN, Geneve and GRE with a key carry a VNI (or key).
  if (inner && (r.tunnel == kTunnelVxlan || r.tunnel == kTunnelGeneve || r.tunnel == kTunnelGreKey))
    put_uint(out, r.vni);
  else
    put(out, "null");
  put(out, ",\"inner\":");
  put_endpoint_or_null(out, r.inner, inner);
  put(out, ",\"checksums\":[");
  const int n = r.n_bad < kMaxSampleChecksums ? r.n_bad : kMaxSampleChecksums;
  for (int i = 0; i < n; i++) {
    const BadChecksumSample& c = r.bad[i];
    if (i > 0) out->push_back(',');
    put(out, "{\"layer\":\"");
    put(out, name_at(names.layers, c.depth == 0 ? 0 : 1));
    put(out, "\",\"depth\":");
    put_uint(out, c.depth);
    put(out, ",\"protocol\":\"");
    put(out, name_at(names.kinds, c.kind));
    put(out, "\",\"found\":");
    put_uint(out, c.found);
    put(out, ",\"expected\":");
    put_uint(out, c.expected);
    put(out, c.looks_partial ? ",\"looksLikeOffload\":true,\"offset\":"
                             : ",\"looksLikeOffload\":false,\"offset\":");
    put_uint(out, c.offset);
    out->push_back('}');
  }
  if (r.direction < names.directions.size()) {
    put(out, "],\"direction\":\"");
    put(out, names.directions[r.direction]);
    put(out, "\"}\n");
  } else {
    put(out, "]}\n");
  }
}

}  // namespace csumtop
