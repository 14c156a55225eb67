// libFuzzer target for the VNET parser and policy engine.
//
// The input is a little program: a one-byte opcode followed by its operands,
// repeated. Packets are fed one by one and in batches, interleaved with binds,
// transfers, blacklist updates, proxy binds, time steps and peer queries, so
// the fuzzer reaches states that a single packet cannot. Each input gets a
// fresh engine, so every crash reproduces from its file alone. Besides what
// the sanitizers catch, the invariants below abort on a wrong verdict shape.

#include "vnet/engine.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

namespace v = pl::vnet;

// Reads operands; past the end everything reads as zero.
struct input {
  const std::uint8_t* p;
  std::size_t n;

  bool done() const { return n == 0; }
  std::uint8_t u8() {
    if (n == 0)
      return 0;
    --n;
    return *p++;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>((u8() << 8) | u8()); }
  std::uint32_t u32() { return (std::uint32_t{u16()} << 16) | u16(); }
  std::vector<std::uint8_t> blob() {
    std::size_t len = u8();
    len = len < n ? len : n;
    std::vector<std::uint8_t> b(p, p + len);
    p += len;
    n -= len;
    return b;
  }
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "vnet fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

void check_verdict(const v::packet_ref& r, v::verdict got) {
  if (got.accepted()) {
    check(got.slice != v::no_slice, "accepted without a slice");
    if (r.dir == v::direction::outbound)
      check(got.slice == r.sender, "outbound accepted for another slice");
  } else {
    check(got.slice == v::no_slice, "rejected with a slice");
  }
}

constexpr v::protocol protos[] = {v::protocol::icmp, v::protocol::tcp, v::protocol::udp};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in{data, size};
  v::engine_config cfg;
  cfg.local_addrs = {v::make_addr(10, 0, 0, 1), v::make_addr(10, 0, 0, 2)};
  cfg.max_connections = 16; // small, so that eviction is reached quickly
  cfg.timeout.tcp = v::seconds(100);
  cfg.timeout.tcp_closing = v::seconds(5);
  cfg.timeout.udp = v::seconds(30);
  cfg.timeout.icmp = v::seconds(10);
  v::engine e{cfg};
  e.add_proxy_device("proxy0", v::prefix{v::make_addr(10, 0, 1, 0), 29});
  v::time_ns now = v::seconds(1000);
  std::uint64_t packets = 0;

  // A whole input taken as one packet as well: the parser on raw bytes.
  for (auto link : {v::link_kind::ip, v::link_kind::ethernet}) {
    const auto r = v::parse({data, size}, link);
    if (r.status == v::parse_status::ok)
      check(r.ip_ok, "ok without a valid IP header");
    if (r.ip_ok)
      check(r.ip_length <= size, "IP length beyond the buffer");
  }

  while (!in.done()) {
    const std::uint8_t op = in.u8();
    switch (op % 10) {
    case 0:
    case 1: { // one packet
      auto b = in.blob();
      const std::uint8_t mode = in.u8();
      v::packet_ref r{b, static_cast<v::slice_id>(mode % 4),
                      op % 2 ? v::direction::inbound : v::direction::outbound,
                      (mode & 4) ? v::link_kind::ethernet : v::link_kind::ip,
                      static_cast<std::uint16_t>((mode >> 3) % 3)};
      check_verdict(r, e.decide(r, now));
      ++packets;
      break;
    }
    case 2: { // a batch of packets, checked against one-by-one on a twin
      const std::size_t n = 1 + in.u8() % 24;
      std::vector<std::vector<std::uint8_t>> bufs;
      std::vector<v::packet_ref> refs;
      for (std::size_t i = 0; i < n && !in.done(); ++i) {
        bufs.push_back(in.blob());
        const std::uint8_t mode = in.u8();
        refs.push_back(v::packet_ref{{},
                                     static_cast<v::slice_id>(mode % 4),
                                     (mode & 8) ? v::direction::inbound : v::direction::outbound,
                                     (mode & 4) ? v::link_kind::ethernet : v::link_kind::ip,
                                     v::vnet_device});
      }
      for (std::size_t i = 0; i < refs.size(); ++i)
        refs[i].bytes = bufs[i];
      std::vector<v::verdict> out(refs.size());
      e.decide_batch(refs, out, now);
      for (std::size_t i = 0; i < refs.size(); ++i)
        check_verdict(refs[i], out[i]);
      packets += refs.size();
      break;
    }
    case 3: {
      const auto s = static_cast<v::slice_id>(in.u8() % 4);
      const auto p = protos[in.u8() % 3];
      e.bind(s, p, in.u16());
      break;
    }
    case 4: {
      const auto s = static_cast<v::slice_id>(in.u8() % 4);
      const auto p = protos[in.u8() % 3];
      e.unbind(s, p, in.u16());
      break;
    }
    case 5: {
      const auto who = static_cast<v::slice_id>(in.u8() % 4);
      const auto p = protos[in.u8() % 3];
      const auto port = in.u16();
      e.transfer(who, p, port, static_cast<v::slice_id>(in.u8() % 4));
      break;
    }
    case 6: {
      const v::prefix p{in.u32(), static_cast<std::uint8_t>(in.u8() % 40)};
      if (in.u8() % 2)
        e.add_blacklist(p);
      else
        e.remove_blacklist(p);
      break;
    }
    case 7:
      now += v::seconds(in.u8());
      e.expire(now, in.u8());
      break;
    case 8: {
      const auto s = static_cast<v::slice_id>(in.u8() % 4);
      const std::uint8_t m = in.u8();
      static constexpr const char* names[] = {"vnet", "proxy0", "eth0", "lo"};
      if (m & 1) {
        const auto r = e.bind_packet_socket(s, names[(m >> 1) % 4],
                                            (m & 8) ? v::eth_p_all : in.u16(), (m & 16) != 0);
        check(r.err != v::error::none || e.proxies().holder(r.device) == s ||
                  r.device == v::vnet_device,
              "proxy bind succeeded without holding the device");
      } else {
        e.release_packet_socket(s, static_cast<std::uint16_t>((m >> 1) % 3));
      }
      break;
    }
    default: {
      const auto p = protos[in.u8() % 3];
      const auto la = in.u32();
      const auto lp = in.u16();
      const auto pa = in.u32();
      (void)e.peer_slice(p, la, lp, pa, in.u16(), now);
      break;
    }
    }
    check(e.connection_count() <= cfg.max_connections, "table beyond its bound");
  }

  // Every packet was counted exactly once, accepted or refused.
  const auto c = e.counters();
  std::uint64_t total = c.outbound_accepted + c.inbound_accepted;
  for (auto n : c.outbound_rejects)
    total += n;
  for (auto n : c.inbound_rejects)
    total += n;
  check(total == packets, "counters disagree with the packets decided");
  return 0;
}
