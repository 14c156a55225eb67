// Differential test: the engine against a deliberately naive reference model
// on long random sequences of packets and control operations.
//
// The model shares no code with the engine: its own byte reader, linear scans
// over vectors for binds, connections, blacklist and proxy devices, and the
// seed's rules written out directly. Replay a failure with PL_SEED=<n>.

#include "tests/vnet/packet_builder.hpp"
#include "vnet/engine.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>

namespace {

namespace v = pl::vnet;
using pl::vnet::test::bytes;

// ---------------------------------------------------------------------------
// The reference model
// ---------------------------------------------------------------------------

constexpr std::uint32_t nobody = 0xFFFFFFFFu;

// What the model's own reader makes of a buffer.
struct ref_packet {
  bool ip_ok = false;
  std::string kind = "malformed"; // ok, malformed, fragment, untrackable, icmp_error, icmp_other
  int proto = 0;
  int icmp_type = -1;
  int flags = 0;
  std::uint32_t src = 0, dst = 0;
  int sport = 0, dport = 0;
  int length = 0;
  bool inner_ok = false;
  int inner_proto = 0;
  std::uint32_t inner_src = 0, inner_dst = 0;
  int inner_sport = 0, inner_dport = 0;
};

// Reads big-endian values, answering -1 past the end.
struct reader {
  const bytes& b;
  std::size_t base;
  std::size_t end;
  long u8(std::size_t i) const { return base + i < end ? b[base + i] : -1; }
  long u16(std::size_t i) const {
    return base + i + 1 < end ? (long{b[base + i]} << 8) | b[base + i + 1] : -1;
  }
  long u32(std::size_t i) const {
    return u16(i) < 0 || u16(i + 2) < 0 ? -1 : (u16(i) << 16) | u16(i + 2);
  }
};

bool query_type(long t) {
  return t == 0 || t == 8 || t == 13 || t == 14 || t == 15 || t == 16 || t == 17 || t == 18;
}

bool error_type(long t) {
  return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
}

ref_packet ref_parse(const bytes& b, bool ethernet) {
  ref_packet r;
  std::size_t start = ethernet ? 14 : 0;
  if (b.size() < start + 20)
    return r;
  reader ip{b, start, b.size()};
  long version = ip.u8(0) / 16;
  long hlen = (ip.u8(0) % 16) * 4;
  long total = ip.u16(2);
  long flags_off = ip.u16(6);
  if (version != 4 || hlen < 20 || total < hlen ||
      start + static_cast<std::size_t>(total) > b.size())
    return r;
  if (flags_off >= 0x8000)
    return r;
  r.ip_ok = true;
  r.proto = static_cast<int>(ip.u8(9));
  r.src = static_cast<std::uint32_t>(ip.u32(12));
  r.dst = static_cast<std::uint32_t>(ip.u32(16));
  r.length = static_cast<int>(total);
  bool more_fragments = (flags_off / 0x2000) % 2 == 1;
  if (more_fragments || flags_off % 0x2000 != 0) {
    r.kind = "fragment";
    return r;
  }
  if (r.proto != 1 && r.proto != 6 && r.proto != 17) {
    r.kind = "untrackable";
    return r;
  }
  reader tp{b, start + static_cast<std::size_t>(hlen), start + static_cast<std::size_t>(total)};
  long avail = total - hlen;
  if (r.proto == 6) {
    long doff = tp.u8(12) < 0 ? -1 : (tp.u8(12) / 16) * 4;
    if (avail < 20 || doff < 20 || doff > avail)
      return r;
    r.sport = static_cast<int>(tp.u16(0));
    r.dport = static_cast<int>(tp.u16(2));
    r.flags = static_cast<int>(tp.u8(13));
    r.kind = "ok";
    return r;
  }
  if (r.proto == 17) {
    long ulen = tp.u16(4);
    if (avail < 8 || ulen < 8 || ulen > avail)
      return r;
    r.sport = static_cast<int>(tp.u16(0));
    r.dport = static_cast<int>(tp.u16(2));
    r.kind = "ok";
    return r;
  }
  if (avail < 8)
    return r;
  r.icmp_type = static_cast<int>(tp.u8(0));
  if (query_type(r.icmp_type)) {
    r.sport = static_cast<int>(tp.u16(4));
    r.kind = "ok";
    return r;
  }
  if (!error_type(r.icmp_type)) {
    r.kind = "icmp_other";
    return r;
  }
  r.kind = "icmp_error";
  // The quoted datagram starts 8 bytes into the ICMP message.
  reader q{b, tp.base + 8, tp.end};
  long qlen = static_cast<long>(tp.end) - static_cast<long>(tp.base) - 8;
  if (qlen < 20 || q.u8(0) / 16 != 4)
    return r;
  long qhl = (q.u8(0) % 16) * 4;
  if (qhl < 20 || qhl + 8 > qlen || q.u16(6) % 0x2000 != 0)
    return r;
  reader qt{b, q.base + static_cast<std::size_t>(qhl), tp.end};
  r.inner_proto = static_cast<int>(q.u8(9));
  r.inner_src = static_cast<std::uint32_t>(q.u32(12));
  r.inner_dst = static_cast<std::uint32_t>(q.u32(16));
  if (r.inner_proto == 6 || r.inner_proto == 17) {
    r.inner_sport = static_cast<int>(qt.u16(0));
    r.inner_dport = static_cast<int>(qt.u16(2));
    r.inner_ok = true;
  } else if (r.inner_proto == 1 && query_type(qt.u8(0))) {
    r.inner_sport = static_cast<int>(qt.u16(4));
    r.inner_dport = 0;
    r.inner_ok = true;
  }
  return r;
}

struct ref_bind {
  int proto;
  int port;
  std::uint32_t slice;
  int sockets;
};

struct ref_conn {
  int proto;
  std::uint32_t laddr, raddr;
  int lport, rport;
  std::uint32_t owner;
  bool fin_out = false, fin_in = false, rst = false;
  v::time_ns last = 0;
};

struct ref_proxy {
  std::string name;
  std::uint32_t addr;
  int len;
  std::uint32_t holder = nobody;
  int sockets = 0;
};

struct ref_counts {
  std::uint64_t sent = 0, sent_bytes = 0, recv = 0, recv_bytes = 0, rejected = 0;
};

bool in_prefix(std::uint32_t a, std::uint32_t net, int len) {
  for (int bit = 0; bit < len; ++bit) {
    const std::uint32_t m = 0x80000000u >> bit;
    if ((a & m) != (net & m))
      return false;
  }
  return true;
}

struct ref_model {
  std::vector<std::uint32_t> locals;
  bool drop_unowned = false;
  v::time_ns t_tcp = 0, t_closing = 0, t_udp = 0, t_icmp = 0;
  std::vector<ref_bind> binds;
  std::vector<ref_conn> conns;
  std::vector<std::pair<std::uint32_t, int>> blacklist;
  std::vector<ref_proxy> proxies;
  std::map<std::uint32_t, ref_counts> counts;
  std::map<std::string, std::uint64_t> out_rejects, in_rejects;

  bool local(std::uint32_t a) const {
    if (a >> 24 == 127)
      return true;
    for (auto l : locals)
      if (l == a)
        return true;
    return false;
  }

  std::uint32_t binder(int proto, int port) const {
    for (const auto& b : binds)
      if (b.proto == proto && b.port == port)
        return b.slice;
    return nobody;
  }

  bool listed(std::uint32_t a) const {
    for (const auto& [net, len] : blacklist)
      if (in_prefix(a, net, len))
        return true;
    return false;
  }

  bool alive(const ref_conn& c, v::time_ns now) const {
    v::time_ns limit = c.proto == 17 ? t_udp : c.proto == 1 ? t_icmp : t_tcp;
    if (c.proto == 6 && (c.rst || (c.fin_out && c.fin_in)))
      limit = t_closing;
    return now - c.last < limit;
  }

  ref_conn* lookup(int proto, std::uint32_t la, std::uint32_t ra, int lp, int rp, v::time_ns now) {
    for (auto& c : conns)
      if (c.proto == proto && c.laddr == la && c.raddr == ra && c.lport == lp && c.rport == rp)
        return alive(c, now) ? &c : nullptr;
    return nullptr;
  }

  v::verdict refuse_out(std::uint32_t s, const std::string& why, v::reason r) {
    ++out_rejects[why];
    ++counts[s].rejected;
    return v::reject(r);
  }

  v::verdict refuse_in(const std::string& why, v::reason r) {
    ++in_rejects[why];
    return v::reject(r);
  }

  v::verdict give(std::uint32_t s, const ref_packet& p) {
    ++counts[s].recv;
    counts[s].recv_bytes += static_cast<std::uint64_t>(p.length);
    return v::accept(s);
  }

  v::verdict nobody_owns(const ref_packet& p) {
    return drop_unowned ? refuse_in("unowned", v::reason::unowned) : give(0, p);
  }

  v::verdict send(std::uint32_t s, const bytes& b, bool eth, int device, v::time_ns now) {
    ref_packet p = ref_parse(b, eth);
    if (!p.ip_ok)
      return refuse_out(s, "malformed", v::reason::malformed);
    if (device != 0) {
      if (device > static_cast<int>(proxies.size()) || proxies[device - 1].holder != s)
        return refuse_out(s, "proxy", v::reason::proxy_not_held);
      if (p.kind == "malformed")
        return refuse_out(s, "malformed", v::reason::malformed);
      if (p.kind == "fragment")
        return refuse_out(s, "fragment", v::reason::fragment);
      if (!in_prefix(p.src, proxies[device - 1].addr, proxies[device - 1].len))
        return refuse_out(s, "source", v::reason::source_not_local);
      if (listed(p.dst))
        return refuse_out(s, "blacklisted", v::reason::blacklisted);
      ++counts[s].sent;
      counts[s].sent_bytes += static_cast<std::uint64_t>(p.length);
      return v::accept(s);
    }
    if (p.kind == "malformed")
      return refuse_out(s, "malformed", v::reason::malformed);
    if (p.kind == "fragment")
      return refuse_out(s, "fragment", v::reason::fragment);
    if (p.kind == "untrackable" || p.kind == "icmp_other")
      return refuse_out(s, "untrackable", v::reason::not_trackable);
    if (p.kind == "icmp_error")
      return refuse_out(s, "icmp_error", v::reason::icmp_error);
    if (!local(p.src))
      return refuse_out(s, "source", v::reason::source_not_local);
    if (listed(p.dst))
      return refuse_out(s, "blacklisted", v::reason::blacklisted);
    const std::uint32_t owner = binder(p.proto, p.sport);
    if (owner != nobody && owner != s)
      return refuse_out(s, "port_bound", v::reason::port_bound);
    ref_conn* c = lookup(p.proto, p.src, p.dst, p.sport, p.dport, now);
    if (c == nullptr) {
      // Forget a dead entry with the same tuple, then start afresh.
      std::erase_if(conns, [&](const ref_conn& x) {
        return x.proto == p.proto && x.laddr == p.src && x.raddr == p.dst && x.lport == p.sport &&
               x.rport == p.dport;
      });
      conns.push_back(ref_conn{p.proto, p.src, p.dst, p.sport, p.dport, s});
      c = &conns.back();
    }
    c->owner = s;
    c->last = now;
    if (p.proto == 6) {
      const bool syn = p.flags & 0x02, ack = p.flags & 0x10;
      if (syn && !ack)
        c->fin_out = c->fin_in = c->rst = false;
      if (p.flags & 0x01)
        c->fin_out = true;
      if (p.flags & 0x04)
        c->rst = true;
    }
    ++counts[s].sent;
    counts[s].sent_bytes += static_cast<std::uint64_t>(p.length);
    return v::accept(s);
  }

  v::verdict receive(const bytes& b, bool eth, v::time_ns now) {
    ref_packet p = ref_parse(b, eth);
    if (!p.ip_ok)
      return refuse_in("malformed", v::reason::malformed);
    if (!local(p.dst)) {
      for (const auto& d : proxies)
        if (in_prefix(p.dst, d.addr, d.len))
          return d.holder == nobody ? refuse_in("unowned", v::reason::unowned) : give(d.holder, p);
      return refuse_in("destination", v::reason::destination_not_local);
    }
    if (p.kind == "malformed")
      return refuse_in("malformed", v::reason::malformed);
    if (p.kind == "fragment")
      return refuse_in("fragment", v::reason::fragment);
    if (p.kind == "untrackable" || p.kind == "icmp_other")
      return nobody_owns(p);
    if (p.kind == "icmp_error") {
      if (!p.inner_ok)
        return refuse_in("malformed", v::reason::malformed);
      const std::uint32_t owner = binder(p.inner_proto, p.inner_sport);
      if (owner != nobody)
        return give(owner, p);
      ref_conn* c =
          lookup(p.inner_proto, p.inner_src, p.inner_dst, p.inner_sport, p.inner_dport, now);
      return c ? give(c->owner, p) : nobody_owns(p);
    }
    if (p.proto == 1 &&
        (p.icmp_type == 8 || p.icmp_type == 13 || p.icmp_type == 15 || p.icmp_type == 17))
      return nobody_owns(p);
    const int lport = p.proto == 1 ? p.sport : p.dport;
    const int rport = p.proto == 1 ? 0 : p.sport;
    ref_conn* c = lookup(p.proto, p.dst, p.src, lport, rport, now);
    if (c) {
      c->last = now;
      if (p.proto == 6 && (p.flags & 0x01))
        c->fin_in = true;
      if (p.proto == 6 && (p.flags & 0x04))
        c->rst = true;
    }
    const std::uint32_t owner = binder(p.proto, lport);
    if (owner != nobody)
      return give(owner, p);
    return c ? give(c->owner, p) : nobody_owns(p);
  }

  v::error bind(std::uint32_t s, int proto, int port) {
    for (auto& b : binds)
      if (b.proto == proto && b.port == port) {
        if (b.slice != s)
          return v::error::port_in_use;
        ++b.sockets;
        return v::error::none;
      }
    binds.push_back(ref_bind{proto, port, s, 1});
    return v::error::none;
  }

  v::error unbind(std::uint32_t s, int proto, int port) {
    for (std::size_t i = 0; i < binds.size(); ++i)
      if (binds[i].proto == proto && binds[i].port == port) {
        if (binds[i].slice != s)
          return v::error::not_owner;
        if (--binds[i].sockets == 0)
          binds.erase(binds.begin() + static_cast<long>(i));
        return v::error::none;
      }
    return v::error::not_bound;
  }

  v::error transfer(std::uint32_t who, int proto, int port, std::uint32_t to) {
    if (who != 0)
      return v::error::not_permitted;
    for (auto& b : binds)
      if (b.proto == proto && b.port == port) {
        b.slice = to;
        return v::error::none;
      }
    return v::error::not_bound;
  }

  v::device_result bind_packet(std::uint32_t s, const std::string& name, int ethertype,
                               bool promisc) {
    if (ethertype != 0x0800 && ethertype != 0x0003)
      return {v::error::bad_protocol};
    if (promisc)
      return {v::error::promiscuous_refused};
    if (name == "vnet")
      return {v::error::none, 0};
    for (std::size_t i = 0; i < proxies.size(); ++i)
      if (proxies[i].name == name) {
        if (proxies[i].holder != nobody && proxies[i].holder != s)
          return {v::error::device_busy};
        proxies[i].holder = s;
        ++proxies[i].sockets;
        return {v::error::none, static_cast<std::uint16_t>(i + 1)};
      }
    return {v::error::interface_not_allowed};
  }

  v::error release_packet(std::uint32_t s, int device) {
    if (device == 0)
      return v::error::none;
    if (device > static_cast<int>(proxies.size()))
      return v::error::no_such_device;
    auto& d = proxies[static_cast<std::size_t>(device - 1)];
    if (d.holder == nobody)
      return v::error::not_bound;
    if (d.holder != s)
      return v::error::not_owner;
    if (--d.sockets == 0)
      d.holder = nobody;
    return v::error::none;
  }

  std::optional<std::uint32_t> peer(int proto, std::uint32_t la, int lp, std::uint32_t pa, int pp,
                                    v::time_ns now) {
    if (!local(pa) || !local(la))
      return std::nullopt;
    const std::uint32_t owner = binder(proto, pp);
    if (owner != nobody)
      return owner;
    ref_conn* c = lookup(proto, pa, la, pp, proto == 1 ? 0 : lp, now);
    if (c == nullptr)
      return std::nullopt;
    return c->owner;
  }
};

// ---------------------------------------------------------------------------
// Random traffic over a small universe, so that tuples collide often
// ---------------------------------------------------------------------------

using namespace pl::vnet::test;

struct generator {
  std::mt19937_64 rng;

  std::uint64_t pick(std::uint64_t n) { return rng() % n; }
  bool chance(int percent) { return pick(100) < static_cast<std::uint64_t>(percent); }

  template <class T>
  T one_of(std::initializer_list<T> xs) {
    return xs.begin()[pick(xs.size())];
  }

  std::uint32_t local_addr() {
    return one_of(
        {v::make_addr(10, 0, 0, 1), v::make_addr(10, 0, 0, 2), v::make_addr(127, 0, 0, 1)});
  }
  std::uint32_t remote_addr() {
    return one_of({v::make_addr(192, 0, 2, 1), v::make_addr(192, 0, 2, 2),
                   v::make_addr(198, 51, 100, 1), v::make_addr(203, 0, 113, 9)});
  }
  std::uint32_t proxy_addr() { return v::make_addr(10, 0, 1, static_cast<std::uint8_t>(pick(10))); }
  std::uint32_t any_addr() {
    switch (pick(10)) {
    case 0:
      return v::make_addr(10, 0, 0, 9); // not local
    case 1:
      return proxy_addr();
    case 2:
    case 3:
      return remote_addr();
    default:
      return local_addr();
    }
  }
  std::uint16_t port() {
    return static_cast<std::uint16_t>(chance(20) ? one_of({53, 80}) : 1000 + pick(6));
  }
  std::uint8_t tcp_flags() {
    return one_of<std::uint8_t>({0x02, 0x12, 0x10, 0x11, 0x04, 0x14, 0x18});
  }

  // A datagram from `src` to `dst`; mostly trackable and well-formed.
  bytes datagram(std::uint32_t src, std::uint32_t dst, bool replying) {
    const auto k = pick(100);
    if (k < 30)
      return tcp(src, port(), dst, port(), tcp_flags(), pick(3));
    if (k < 60)
      return udp(src, port(), dst, port(), pick(3));
    if (k < 80) {
      const std::uint8_t type =
          replying ? one_of<std::uint8_t>({0, 14, 8}) : one_of<std::uint8_t>({8, 13, 0});
      return icmp(src, dst, port(), type);
    }
    if (k < 87) {
      // An ICMP error quoting something the other side sent.
      bytes quoted = chance(50) ? udp(dst, port(), src, port()) : icmp(dst, src, port(), 8);
      return icmp_error(src, dst, one_of<std::uint8_t>({3, 11, 4, 5, 12}), quoted);
    }
    if (k < 90)
      return ip_header{src, dst, 1}.build(icmp_message(one_of<std::uint8_t>({9, 10, 42}), 1));
    if (k < 94)
      return ip_header{src, dst, one_of<std::uint8_t>({47, 50, 0})}.build(bytes(pick(12), 7));
    ip_header h{src, dst, one_of<std::uint8_t>({6, 17, 1})};
    h.frag = one_of<std::uint16_t>({0x2000, 0x0004, 0x6000, 0x8000});
    return h.build(udp_datagram(port(), port()));
  }

  // Damages a datagram in one of the ways a broken sender would.
  void corrupt(bytes& b) {
    if (b.empty())
      return;
    switch (pick(4)) {
    case 0:
      b.resize(pick(b.size()));
      break;
    case 1:
      b[pick(std::min<std::size_t>(b.size(), 48))] = static_cast<std::uint8_t>(rng());
      break;
    case 2:
      b[0] = static_cast<std::uint8_t>(0x40 | pick(16));
      break;
    default:
      b[2] = static_cast<std::uint8_t>(pick(2));
      b[3] = static_cast<std::uint8_t>(rng());
      break;
    }
  }
};

std::uint64_t test_seed() {
  if (const char* s = std::getenv("PL_SEED"))
    return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

} // namespace

TEST_CASE("agrees with the naive reference model on random sequences", "[model]") {
  const auto seed = test_seed();
  std::cout << "random-seed=" << seed << " (replay with PL_SEED=" << seed << ")\n";
  generator g{std::mt19937_64{seed}};

  v::engine_config cfg;
  cfg.local_addrs = {v::make_addr(10, 0, 0, 1), v::make_addr(10, 0, 0, 2)};
  cfg.max_connections = 1u << 16; // more than the universe of tuples: no eviction
  cfg.timeout.tcp = v::seconds(100);
  cfg.timeout.tcp_closing = v::seconds(10);
  cfg.timeout.udp = v::seconds(30);
  cfg.timeout.icmp = v::seconds(20);
  cfg.hash_seed = seed;
  v::engine eng{cfg};

  ref_model ref;
  ref.locals = cfg.local_addrs;
  ref.t_tcp = cfg.timeout.tcp;
  ref.t_closing = cfg.timeout.tcp_closing;
  ref.t_udp = cfg.timeout.udp;
  ref.t_icmp = cfg.timeout.icmp;
  REQUIRE(eng.add_proxy_device("proxy0", v::prefix{v::make_addr(10, 0, 1, 0), 29}).err ==
          v::error::none);
  ref.proxies.push_back(ref_proxy{"proxy0", v::make_addr(10, 0, 1, 0), 29});

  v::time_ns now = v::seconds(5000);
  const int steps = 100000;
  std::uint64_t accepted = 0;
  std::vector<bytes> batch_bytes;
  for (int step = 0; step < steps; ++step) {
    const auto op = g.pick(1000);
    if (op < 850) {
      // A batch of 1 to 40 packets, each in or out, through both APIs.
      const std::size_t n = 1 + g.pick(40);
      batch_bytes.clear();
      std::vector<v::packet_ref> refs;
      std::vector<int> devices;
      for (std::size_t i = 0; i < n; ++i) {
        const bool out = g.chance(55);
        const std::uint32_t a = out ? (g.chance(85) ? g.local_addr() : g.any_addr())
                                    : (g.chance(90) ? g.remote_addr() : g.local_addr());
        const std::uint32_t b = out ? (g.chance(85) ? g.remote_addr() : g.any_addr())
                                    : (g.chance(85) ? g.local_addr() : g.any_addr());
        bytes d = g.datagram(a, b, !out);
        int device = 0;
        if (out && g.chance(5)) {
          device = g.chance(90) ? 1 : 2;
          d = g.datagram(g.chance(80) ? g.proxy_addr() : a, b, false);
        }
        if (g.chance(8))
          g.corrupt(d);
        const bool eth = g.chance(15);
        if (eth)
          d = with_ethernet(d);
        batch_bytes.push_back(std::move(d));
        devices.push_back(device);
        refs.push_back(v::packet_ref{{},
                                     static_cast<v::slice_id>(g.pick(4)),
                                     out ? v::direction::outbound : v::direction::inbound,
                                     eth ? v::link_kind::ethernet : v::link_kind::ip,
                                     static_cast<std::uint16_t>(device)});
      }
      for (std::size_t i = 0; i < n; ++i)
        refs[i].bytes = batch_bytes[i];
      std::vector<v::verdict> got(n);
      if (g.chance(50))
        eng.decide_batch(refs, got, now);
      else
        for (std::size_t i = 0; i < n; ++i)
          got[i] = eng.decide(refs[i], now);
      for (std::size_t i = 0; i < n; ++i) {
        const bool eth = refs[i].link == v::link_kind::ethernet;
        const v::verdict want = refs[i].dir == v::direction::outbound
                                    ? ref.send(refs[i].sender, batch_bytes[i], eth, devices[i], now)
                                    : ref.receive(batch_bytes[i], eth, now);
        if (got[i] != want)
          FAIL("step " << step << " packet " << i << " dir " << int(refs[i].dir) << " want "
                       << v::to_string(want.why) << "/" << want.slice << " got "
                       << v::to_string(got[i].why) << "/" << got[i].slice
                       << " random-seed=" << seed);
        accepted += want.accepted() ? 1 : 0;
      }
    } else if (op < 920) {
      const auto s = static_cast<v::slice_id>(g.pick(4));
      const auto proto = g.one_of({v::protocol::tcp, v::protocol::udp, v::protocol::icmp});
      const auto port = g.port();
      switch (g.pick(3)) {
      case 0:
        REQUIRE(eng.bind(s, proto, port) == ref.bind(s, static_cast<int>(proto), port));
        break;
      case 1:
        REQUIRE(eng.unbind(s, proto, port) == ref.unbind(s, static_cast<int>(proto), port));
        break;
      default: {
        const auto who = g.chance(70) ? v::root_slice : s;
        const auto to = static_cast<v::slice_id>(g.pick(4));
        REQUIRE(eng.transfer(who, proto, port, to) ==
                ref.transfer(who, static_cast<int>(proto), port, to));
      }
      }
    } else if (op < 940) {
      const v::prefix p{g.remote_addr() & 0xFFFFFF00u, 24};
      const v::prefix host{g.remote_addr(), 32};
      const auto which = g.chance(50) ? p : host;
      if (g.chance(60)) {
        REQUIRE(eng.add_blacklist(which) == v::error::none);
        ref.blacklist.emplace_back(which.addr, which.length);
      } else {
        const auto want = [&] {
          for (std::size_t i = 0; i < ref.blacklist.size(); ++i)
            if (ref.blacklist[i] == std::pair{which.addr, int{which.length}}) {
              ref.blacklist.erase(ref.blacklist.begin() + static_cast<long>(i));
              return v::error::none;
            }
          return v::error::not_bound;
        }();
        // The engine de-duplicates; the model keeps duplicates, so remove
        // them all from the model when the engine's last copy goes.
        const auto got = eng.remove_blacklist(which);
        if (got == v::error::none)
          std::erase(ref.blacklist, std::pair{which.addr, int{which.length}});
        REQUIRE(got == want);
      }
    } else if (op < 960) {
      const auto s = static_cast<v::slice_id>(g.pick(4));
      if (g.chance(50)) {
        const std::string name = g.one_of<const char*>({"proxy0", "vnet", "eth0"});
        const auto ether = g.one_of<std::uint16_t>({0x0800, 0x0003, 0x86DD});
        const bool promisc = g.chance(10);
        const auto got = eng.bind_packet_socket(s, name, ether, promisc);
        const auto want = ref.bind_packet(s, name, ether, promisc);
        REQUIRE(got.err == want.err);
        REQUIRE(got.device == want.device);
      } else {
        const auto dev = static_cast<std::uint16_t>(g.pick(3));
        REQUIRE(eng.release_packet_socket(s, dev) == ref.release_packet(s, dev));
      }
    } else if (op < 985) {
      now += v::seconds(static_cast<std::int64_t>(g.pick(25)));
      if (g.chance(20))
        eng.expire(now, g.pick(5000));
    } else if (op < 998) {
      const auto proto = g.one_of({v::protocol::tcp, v::protocol::udp, v::protocol::icmp});
      const auto la = g.local_addr(), pa = g.chance(90) ? g.local_addr() : g.remote_addr();
      const auto lp = g.port(), pp = g.port();
      const auto got = eng.peer_slice(proto, la, lp, pa, pp, now);
      const auto want = ref.peer(static_cast<int>(proto), la, lp, pa, pp, now);
      REQUIRE(got.has_value() == want.has_value());
      if (got)
        REQUIRE(*got == *want);
    } else {
      ref.drop_unowned = !ref.drop_unowned;
      eng.set_unowned_policy(ref.drop_unowned ? v::unowned_policy::drop
                                              : v::unowned_policy::deliver_to_root);
    }
  }
  // Per-slice counters agree exactly.
  for (const auto& [s, c] : ref.counts) {
    const auto e = eng.counters_of(s);
    INFO("slice " << s);
    CHECK(e.sent_packets == c.sent);
    CHECK(e.sent_bytes == c.sent_bytes);
    CHECK(e.received_packets == c.recv);
    CHECK(e.received_bytes == c.recv_bytes);
    CHECK(e.rejected_packets == c.rejected);
  }
  const auto k = eng.counters();
  std::uint64_t ref_out = 0, ref_in = 0, eng_out = 0, eng_in = 0;
  for (const auto& [r, n] : ref.out_rejects)
    ref_out += n;
  for (const auto& [r, n] : ref.in_rejects)
    ref_in += n;
  for (auto n : k.outbound_rejects)
    eng_out += n;
  for (auto n : k.inbound_rejects)
    eng_in += n;
  CHECK(eng_out == ref_out);
  CHECK(eng_in == ref_in);
  CHECK(k.outbound_rejects[static_cast<int>(v::reason::port_bound)] ==
        ref.out_rejects["port_bound"]);
  CHECK(k.outbound_rejects[static_cast<int>(v::reason::icmp_error)] ==
        ref.out_rejects["icmp_error"]);
  CHECK(k.evictions == 0);
  // The sequence must have exercised the interesting paths, or it proves little.
  CHECK(accepted > 50000);
  for (const char* r : {"malformed", "fragment", "untrackable", "icmp_error", "source",
                        "blacklisted", "port_bound", "proxy"})
    CHECK(ref.out_rejects[r] > 0);
  for (const char* r : {"malformed", "fragment", "destination", "unowned"})
    CHECK(ref.in_rejects[r] > 0);
}
