// \summary: N-API surface of the host module (links, network namespaces and the
// per-namespace /proc/net counter files): argument checks and conversions only; the
// work is in native/host.
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sys/prctl.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "capture/live_capture.h"
#include "host/link_watch.h"
#include "host/links.h"
#include "host/netfile.h"
#include "host/netns.h"
#include "napi/register.h"

namespace csumtop {

namespace {

using host::LinkInfo;
using host::Tristate;

Napi::Value tristate(Napi::Env env, Tristate t) {
  if (t == Tristate::kUnknown) return env.Null();
  return Napi::Boolean::New(env, t == Tristate::kOn);
}

Napi::Value mac_text(Napi::Env env, const std::vector<uint8_t>& a) {
  if (a.empty()) return env.Null();
  std::string s;
  char b[4];
  for (size_t i = 0; i < a.size(); i++) {
    std::snprintf(b, sizeof b, i ? ":%02x" : "%02x", a[i]);
    s += b;
  }
  return Napi::String::New(env, s);
}

Napi::Value index_or_null(Napi::Env env, bool present, int64_t v) {
  if (!present || v == 0) return env.Null();
  return Napi::Number::New(env, static_cast<double>(v));
}

Napi::Value string_or_null(Napi::Env env, const std::string& s) {
  if (s.empty()) return env.Null();
  return Napi::String::New(env, s);
}

Napi::Object link_object(Napi::Env env, const LinkInfo& l) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ifindex", Napi::Number::New(env, l.ifindex));
  o.Set("name", Napi::String::New(env, l.name));
  o.Set("flags", Napi::Number::New(env, l.flags));
  // IFF_UP, IFF_RUNNING, IFF_LOOPBACK: include/uapi/linux/if.h (net_device_flags).
  o.Set("up", Napi::Boolean::New(env, (l.flags & IFF_UP) != 0));
  o.Set("running", Napi::Boolean::New(env, (l.flags & IFF_RUNNING) != 0));
  o.Set("loopback", Napi::Boolean::New(env, (l.flags & IFF_LOOPBACK) != 0));
  o.Set("mtu", Napi::Number::New(env, l.mtu));
  o.Set("arphrd", Napi::Number::New(env, l.arphrd));
  // The capture's link type, decided here once by the capture's own rule (Ethernet, raw
  // IP, or null: not decoded), so no TypeScript table of ARPHRD types or link kinds can
  // disagree with what the ring hands over.
  const uint16_t lt = LiveCapture::linktype_for(l.arphrd);
  o.Set("linktype", lt == 0xffff ? env.Null() : Napi::Number::New(env, lt));
  o.Set("mac", mac_text(env, l.address));
  o.Set("link", index_or_null(env, l.has_link, l.link));
  o.Set("linkNetnsid", l.has_link_netnsid ? Napi::Number::New(env, l.link_netnsid) : env.Null());
  o.Set("master", index_or_null(env, true, l.master));
  o.Set("kind", string_or_null(env, l.kind));
  o.Set("driver", string_or_null(env, l.driver));
  o.Set("busInfo", string_or_null(env, l.bus_info));
  if (l.has_vxlan) {
    Napi::Object v = Napi::Object::New(env);
    v.Set("vni", l.vxlan.has_vni ? Napi::Number::New(env, l.vxlan.vni) : env.Null());
    v.Set("port", l.vxlan.has_port ? Napi::Number::New(env, l.vxlan.port) : env.Null());
    v.Set("link", index_or_null(env, true, l.vxlan.link));
    v.Set("local", string_or_null(env, l.vxlan.local));
    v.Set("udpCsum", tristate(env, l.vxlan.udp_csum));
    v.Set("udpZeroCsum6Tx", tristate(env, l.vxlan.udp_zero_csum6_tx));
    v.Set("udpZeroCsum6Rx", tristate(env, l.vxlan.udp_zero_csum6_rx));
    o.Set("vxlan", v);
  }
  if (l.has_geneve) {
    Napi::Object g = Napi::Object::New(env);
    g.Set("vni", l.geneve.has_vni ? Napi::Number::New(env, l.geneve.vni) : env.Null());
    g.Set("port", l.geneve.has_port ? Napi::Number::New(env, l.geneve.port) : env.Null());
    g.Set("udpCsum", tristate(env, l.geneve.udp_csum));
    g.Set("udpZeroCsum6Tx", tristate(env, l.geneve.udp_zero_csum6_tx));
    g.Set("udpZeroCsum6Rx", tristate(env, l.geneve.udp_zero_csum6_rx));
    o.Set("geneve", g);
  }
  Napi::Object features = Napi::Object::New(env);
  Napi::Array fixed = Napi::Array::New(env);
  uint32_t nfixed = 0;
  for (const host::Feature& f : l.features) {
    features.Set(f.name, Napi::Boolean::New(env, f.active));
    if (f.fixed) fixed.Set(nfixed++, Napi::String::New(env, f.name));
  }
  o.Set("features", features);
  o.Set("fixedFeatures", fixed);
  return o;
}

// [{deleted, link}] for link notifications (LinkWatch.poll and parseLinkEvents).
Napi::Array link_events_array(Napi::Env env, const std::vector<host::LinkEvent>& events) {
  Napi::Array a = Napi::Array::New(env, events.size());
  for (size_t i = 0; i < events.size(); i++) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("deleted", Napi::Boolean::New(env, events[i].deleted));
    e.Set("link", link_object(env, events[i].link));
    a.Set(static_cast<uint32_t>(i), e);
  }
  return a;
}

Napi::Array link_array(Napi::Env env, const std::vector<LinkInfo>& links) {
  Napi::Array a = Napi::Array::New(env, links.size());
  for (size_t i = 0; i < links.size(); i++)
    a.Set(static_cast<uint32_t>(i), link_object(env, links[i]));
  return a;
}

// errno names of the failures that opening or entering a namespace reports (netns.h),
// as Node's own system errors spell them in `code`.
const char* errno_name(int e) {
  switch (e) {
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case EACCES:
      return "EACCES";
    case ENOTDIR:
      return "ENOTDIR";
    case EINVAL:
      return "EINVAL";
    case ELOOP:
      return "ELOOP";
    case ENAMETOOLONG:
      return "ENAMETOOLONG";
    case EMFILE:
      return "EMFILE";
    case ENFILE:
      return "ENFILE";
    case ENOMEM:
      return "ENOMEM";
    default:
      return nullptr;
  }
}

// The JavaScript error of a namespace failure: its message, and when opening or entering
// the namespace failed, `errno` (the number) and `code` (its name, as in Node's system
// errors), so JavaScript tells "not allowed" (EPERM, EACCES: exit 3) from "no such
// namespace" by the code, never by the text (src/native/host.ts namespaceRefused).
Napi::Error netns_error(Napi::Env env, const host::NetnsError& e) {
  Napi::Error err = Napi::Error::New(env, e.message);
  if (e.sys_errno != 0) {
    err.Set("errno", Napi::Number::New(env, e.sys_errno));
    if (const char* name = errno_name(e.sys_errno)) err.Set("code", Napi::String::New(env, name));
  }
  return err;
}

std::string optional_string(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return std::string();
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), usage);
  return info[i].As<Napi::String>().Utf8Value();
}

// listLinks(netnsPath?: string, label?: string): the links of the namespace at netnsPath
// (the current one when absent). label is how the user named it, for error messages.
Napi::Value ListLinks(const Napi::CallbackInfo& info) {
  const char* usage = "listLinks(netnsPath?: string, label?: string)";
  const std::string path = optional_string(info, 0, usage);
  const std::string label = optional_string(info, 1, usage);
  std::vector<LinkInfo> links;
  const host::NetnsError err = host::list_links_in(path, label, &links);
  if (!err.empty()) throw netns_error(info.Env(), err);
  return link_array(info.Env(), links);
}

// netnsIdentity(path: string, label?: string) -> "dev:ino"
Napi::Value NetnsIdentity(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(info.Env(), "netnsIdentity(path: string, label?: string)");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const std::string label = optional_string(info, 1, "netnsIdentity(path: string, label?: string)");
  host::NetnsIdentity id;
  const host::NetnsError err = host::netns_identity(path, label, &id);
  if (!err.empty()) throw netns_error(info.Env(), err);
  return Napi::String::New(info.Env(), host::format_identity(id));
}

// dropBoundingSet() -> number of capabilities dropped. Clears the calling thread's
// capability bounding set (prctl(2) PR_CAPBSET_DROP, needs CAP_SETPCAP: call it before
// setuid). The bounding set only matters at execve(2), where it limits what a setuid or
// file-capability program could regain; it is per thread and inherited by threads and
// children created afterwards. Called on the JavaScript thread, from which libuv starts
// every child process (issue 17: --user left it full although the README said otherwise).
Napi::Value DropBoundingSet(const Napi::CallbackInfo& info) {
  int dropped = 0;
  for (int cap = 0; cap < 64; cap++) {
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) break;  // EINVAL: past CAP_LAST_CAP
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      throw Napi::Error::New(info.Env(), std::string("cannot clear the capability bounding set: ") +
                                             std::strerror(errno));
    }
    dropped++;
  }
  return Napi::Number::New(info.Env(), dropped);
}

// parseLinkDump(bytes: Uint8Array) -> {links, done, interrupted, error}: the rtnetlink
// parser on given bytes, for tests on kernels that cannot create a device kind.
Napi::Value ParseLinkDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray())
    throw Napi::TypeError::New(env, "parseLinkDump(bytes: Uint8Array)");
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  std::vector<LinkInfo> links;
  bool done = false, interrupted = false;
  const std::string err =
      host::parse_link_dump(data.Data(), data.ByteLength(), &links, &done, &interrupted);
  Napi::Object o = Napi::Object::New(env);
  o.Set("links", link_array(env, links));
  o.Set("done", Napi::Boolean::New(env, done));
  o.Set("interrupted", Napi::Boolean::New(env, interrupted));
  o.Set("error", err.empty() ? env.Null() : Napi::String::New(env, err));
  return o;
}

// readNetFile(netnsPath: string | undefined, name: 'snmp' | 'snmp6' | 'netstat',
//             label?: string) -> string | null
// The text of /proc/net/NAME as the namespace at netnsPath sees it (the current one when
// netnsPath is undefined); null when the kernel has no such file there (snmp6 without
// IPv6). Throws for an unknown name and for namespace errors (see netns.h).
Napi::Value ReadNetFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage =
      "readNetFile(netnsPath: string | undefined, name: 'snmp' | 'snmp6' | 'netstat', label?: "
      "string)";
  const std::string path = optional_string(info, 0, usage);
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(env, usage);
  const std::string name = info[1].As<Napi::String>().Utf8Value();
  if (!host::is_known_net_file(name)) throw Napi::TypeError::New(env, usage);
  const std::string label = optional_string(info, 2, usage);
  std::string content;
  bool present = false;
  const host::NetnsError err = host::read_net_file_in(path, label, name, &content, &present);
  if (!err.empty()) throw netns_error(env, err);
  if (!present) return env.Null();
  return Napi::String::New(env, content);
}

// new LinkWatch(netnsPath?: string, label?: string, rcvbuf?: number): rtnetlink link
// notifications of one namespace (native/host/link_watch.h). Methods:
//   poll() -> {events: [{deleted, link}], overflow}   never blocks
//   dump() -> Link[]                                   full listing (first, resync)
//   stats() -> {notifications, overflows, dumps}
//   close()                                            closes the sockets; idempotent
class LinkWatchWrap : public Napi::ObjectWrap<LinkWatchWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "LinkWatch",
        {InstanceMethod("poll", &LinkWatchWrap::Poll), InstanceMethod("dump", &LinkWatchWrap::Dump),
         InstanceMethod("stats", &LinkWatchWrap::Stats),
         InstanceMethod("close", &LinkWatchWrap::Close)});
  }

  explicit LinkWatchWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LinkWatchWrap>(info) {
    Napi::Env env = info.Env();
    const char* usage = "new LinkWatch(netnsPath?: string, label?: string, rcvbuf?: number)";
    const std::string path = optional_string(info, 0, usage);
    const std::string label = optional_string(info, 1, usage);
    int rcvbuf = 0;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      if (!info[2].IsNumber()) throw Napi::TypeError::New(env, usage);
      const int64_t v = info[2].As<Napi::Number>().Int64Value();
      if (v < 0 || v > (1 << 30)) throw Napi::RangeError::New(env, "rcvbuf out of range");
      rcvbuf = static_cast<int>(v);
    }
    const host::NetnsError err = host::LinkWatch::open(path, label, rcvbuf, &watch_);
    if (!err.empty()) throw netns_error(env, err);
  }

 private:
  host::LinkWatch& watch(Napi::Env env) {
    if (!watch_) throw Napi::Error::New(env, "LinkWatch is closed");
    return *watch_;
  }

  Napi::Value Poll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<host::LinkEvent> events;
    bool overflow = false;
    const std::string err = watch(env).poll(&events, &overflow);
    if (!err.empty()) throw Napi::Error::New(env, err);
    Napi::Object o = Napi::Object::New(env);
    o.Set("events", link_events_array(env, events));
    o.Set("overflow", Napi::Boolean::New(env, overflow));
    return o;
  }

  Napi::Value Dump(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<LinkInfo> links;
    const std::string err = watch(env).dump(&links);
    if (!err.empty()) throw Napi::Error::New(env, err);
    return link_array(env, links);
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const host::LinkWatchStats s = watch(env).stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("notifications", Napi::Number::New(env, static_cast<double>(s.notifications)));
    o.Set("overflows", Napi::Number::New(env, static_cast<double>(s.overflows)));
    o.Set("dumps", Napi::Number::New(env, static_cast<double>(s.dumps)));
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    watch_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<host::LinkWatch> watch_;
};

// parseLinkEvents(bytes: Uint8Array) -> {events, overrun, error}: the notification
// parser on given bytes (tests).
Napi::Value ParseLinkEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray())
    throw Napi::TypeError::New(env, "parseLinkEvents(bytes: Uint8Array)");
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  std::vector<host::LinkEvent> events;
  bool overrun = false;
  const std::string err =
      host::parse_link_events(data.Data(), data.ByteLength(), &events, &overrun);
  Napi::Object o = Napi::Object::New(env);
  o.Set("events", link_events_array(env, events));
  o.Set("overrun", Napi::Boolean::New(env, overrun));
  o.Set("error", err.empty() ? env.Null() : Napi::String::New(env, err));
  return o;
}

// threadCpuNs() -> number: CPU time of the calling thread (the JavaScript thread) in
// nanoseconds, CLOCK_THREAD_CPUTIME_ID (clock_gettime(2)). process.cpuUsage() counts
// every thread, capture threads included; this isolates what JavaScript itself costs
// (the dashboard's CPU meter, src/ui/cpu-meter.ts).
Napi::Value ThreadCpuNs(const Napi::CallbackInfo& info) {
  struct timespec ts;
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return info.Env().Null();
  return Napi::Number::New(info.Env(),
                           static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec));
}

// readerGone(fd): true when fd is a pipe or socket whose reading end has closed (poll(2)
// reports POLLERR on a pipe's write end without readers, POLLHUP on a socket), so a
// live capture notices `| head -1` exiting at once rather than at its next write, as
// tcpdump does at its next packet (issue 13 s.5). A zero-timeout poll, no read/write.
Napi::Value ReaderGone(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "readerGone(fd)");
  struct pollfd p = {info[0].As<Napi::Number>().Int32Value(), 0, 0};
  const int n = ::poll(&p, 1, 0);
  return Napi::Boolean::New(info.Env(), n == 1 && (p.revents & (POLLERR | POLLHUP)) != 0);
}

}  // namespace

void RegisterHost(Napi::Env env, Napi::Object exports) {
  exports.Set("listLinks", Napi::Function::New(env, ListLinks, "listLinks"));
  exports.Set("netnsIdentity", Napi::Function::New(env, NetnsIdentity, "netnsIdentity"));
  exports.Set("parseLinkDump", Napi::Function::New(env, ParseLinkDump, "parseLinkDump"));
  exports.Set("readNetFile", Napi::Function::New(env, ReadNetFile, "readNetFile"));
  exports.Set("parseLinkEvents", Napi::Function::New(env, ParseLinkEvents, "parseLinkEvents"));
  exports.Set("LinkWatch", LinkWatchWrap::Define(env));
  exports.Set("dropBoundingSet", Napi::Function::New(env, DropBoundingSet, "dropBoundingSet"));
  exports.Set("threadCpuNs", Napi::Function::New(env, ThreadCpuNs, "threadCpuNs"));
  exports.Set("readerGone", Napi::Function::New(env, ReaderGone, "readerGone"));
}

}  // namespace csumtop
