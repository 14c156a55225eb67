// Engine tests, one per rule of seed 4.4, with datagrams built byte by byte.

#include "tests/vnet/packet_builder.hpp"
#include "vnet/engine.hpp"

#include <catch2/catch.hpp>

using namespace pl::vnet;
using namespace pl::vnet::test;

namespace {

constexpr ipv4_addr node = make_addr(10, 0, 0, 1);
constexpr ipv4_addr node2 = make_addr(10, 0, 0, 2);
constexpr ipv4_addr other = make_addr(10, 0, 0, 99);
constexpr ipv4_addr host = make_addr(192, 0, 2, 7);
constexpr ipv4_addr host2 = make_addr(198, 51, 100, 1);
constexpr ipv4_addr lo = make_addr(127, 0, 0, 1);
constexpr slice_id s1 = 11;
constexpr slice_id s2 = 12;
constexpr time_ns t0 = seconds(1000);

engine_config config() {
  engine_config c;
  c.local_addrs = {node, node2};
  c.max_connections = 1024;
  return c;
}

struct fixture {
  engine e{config()};
  time_ns now = t0;

  verdict out(slice_id s, const bytes& b, link_kind l = link_kind::ip,
              std::uint16_t device = vnet_device) {
    return e.decide(packet_ref{b, s, direction::outbound, l, device}, now);
  }

  verdict in(const bytes& b, link_kind l = link_kind::ip) {
    return e.decide(packet_ref{b, no_slice, direction::inbound, l}, now);
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "accepts well-formed outbound datagrams of every trackable kind",
                 "[policy][outbound]") {
  CHECK(out(s1, tcp(node, 40000, host, 80, tcp_syn)) == accept(s1));
  CHECK(out(s1, udp(node2, 5000, host, 53)) == accept(s1));
  CHECK(out(s1, icmp(node, host, 7)) == accept(s1));
  CHECK(out(s1, with_ethernet(udp(node, 5001, host, 53)), link_kind::ethernet) == accept(s1));
  CHECK(e.connection_count() == 4);
}

TEST_CASE_METHOD(fixture, "rejects datagrams that are not well-formed IP",
                 "[policy][outbound][malformed]") {
  auto bad_ihl = udp(node, 1, host, 2);
  bad_ihl[0] = 0x44;
  auto long_total = udp(node, 1, host, 2);
  long_total[3] = 200;
  auto short_tcp = tcp(node, 1, host, 2);
  short_tcp.resize(30);
  short_tcp[3] = 30;
  for (const auto& b : {bytes{}, bytes(19, 0x45), bad_ihl, long_total, short_tcp})
    CHECK(out(s1, b) == reject(reason::malformed));
  CHECK(out(s1, bytes(10, 0), link_kind::ethernet) == reject(reason::malformed));
  CHECK(e.counters().outbound_rejects[static_cast<int>(reason::malformed)] == 6);
  CHECK(e.connection_count() == 0);
}

TEST_CASE_METHOD(fixture, "rejects untrackable protocols", "[policy][outbound]") {
  CHECK(out(s1, ip_header{node, host, 47}.build(bytes(8, 0))) == reject(reason::not_trackable));
  CHECK(out(s1, ip_header{node, host, 132}.build(bytes(12, 0))) == reject(reason::not_trackable));
  // Router solicitation: ICMP, but no identifier to track it by.
  CHECK(out(s1, ip_header{node, host, 1}.build(icmp_message(10, 0))) ==
        reject(reason::not_trackable));
}

TEST_CASE_METHOD(fixture, "rejects ICMP error messages", "[policy][outbound]") {
  for (std::uint8_t type : {3, 4, 5, 11, 12})
    CHECK(out(s1, icmp_error(node, host, type, udp(host, 53, node, 5000))) ==
          reject(reason::icmp_error));
}

TEST_CASE_METHOD(fixture, "rejects sources that are not local", "[policy][outbound]") {
  CHECK(out(s1, udp(other, 5000, host, 53)) == reject(reason::source_not_local));
  CHECK(out(s1, tcp(host2, 5000, host, 80)) == reject(reason::source_not_local));
  CHECK(out(s1, udp(lo, 5000, lo, 53)) == accept(s1));
}

TEST_CASE_METHOD(fixture, "rejects source ports bound by another slice", "[policy][outbound]") {
  REQUIRE(e.bind(s2, protocol::tcp, 80) == error::none);
  CHECK(out(s1, tcp(node, 80, host, 40000)) == reject(reason::port_bound));
  CHECK(out(s2, tcp(node, 80, host, 40000)) == accept(s2));
  // Protocols have separate port spaces.
  CHECK(out(s1, udp(node, 80, host, 40000)) == accept(s1));
  // ICMP identifiers can be bound too (ping sockets).
  REQUIRE(e.bind(s2, protocol::icmp, 99) == error::none);
  CHECK(out(s1, icmp(node, host, 99)) == reject(reason::port_bound));
  CHECK(out(s2, icmp(node, host, 99)) == accept(s2));
}

TEST_CASE_METHOD(fixture, "rejects blacklisted destinations, updatable at run time",
                 "[policy][outbound]") {
  const prefix bl{make_addr(192, 0, 2, 0), 24};
  REQUIRE(e.set_blacklist(std::vector<prefix>{bl}) == error::none);
  CHECK(out(s1, udp(node, 5000, host, 53)) == reject(reason::blacklisted));
  CHECK(out(s1, udp(node, 5000, host2, 53)) == accept(s1));
  REQUIRE(e.add_blacklist(prefix{host2, 32}) == error::none);
  CHECK(out(s1, udp(node, 5000, host2, 53)) == reject(reason::blacklisted));
  REQUIRE(e.remove_blacklist(bl) == error::none);
  CHECK(out(s1, udp(node, 5000, host, 53)) == accept(s1));
  // A bad prefix changes nothing.
  CHECK(e.set_blacklist(std::vector<prefix>{prefix{make_addr(10, 0, 0, 1), 8}}) ==
        error::bad_prefix);
  CHECK(out(s1, udp(node, 5000, host2, 53)) == reject(reason::blacklisted));
}

TEST_CASE_METHOD(fixture, "rejects IP fragments, even through packet sockets",
                 "[policy][outbound]") {
  ip_header mf{node, host, 17};
  mf.frag = 0x2000;
  ip_header off{node, host, 17};
  off.frag = 0x0020;
  CHECK(out(s1, mf.build(udp_datagram(1, 2, 16))) == reject(reason::fragment));
  CHECK(out(s1, off.build(bytes(16, 0))) == reject(reason::fragment));
  CHECK(out(s1, with_ethernet(mf.build(udp_datagram(1, 2))), link_kind::ethernet) ==
        reject(reason::fragment));
}

TEST_CASE_METHOD(fixture, "checks the rules in the documented order", "[policy][outbound]") {
  e.add_blacklist(prefix{host, 32});
  e.bind(s2, protocol::udp, 53);
  ip_header frag_gre{other, host, 47};
  frag_gre.frag = 0x2000;
  CHECK(out(s1, frag_gre.build(bytes(8, 0))) == reject(reason::fragment));
  CHECK(out(s1, ip_header{other, host, 47}.build(bytes(8, 0))) == reject(reason::not_trackable));
  CHECK(out(s1, icmp_error(other, host, 3, udp(host, 1, node, 2))) == reject(reason::icmp_error));
  CHECK(out(s1, udp(other, 53, host, 53)) == reject(reason::source_not_local));
  CHECK(out(s1, udp(node, 53, host, 53)) == reject(reason::blacklisted));
  CHECK(out(s1, udp(node, 53, host2, 53)) == reject(reason::port_bound));
}

TEST_CASE_METHOD(fixture, "tracks binds per slice with socket counts", "[policy][bind]") {
  CHECK(e.bind(s1, protocol::udp, 53) == error::none);
  CHECK(e.bind(s1, protocol::udp, 53) == error::none); // a second socket
  CHECK(e.bind(s2, protocol::udp, 53) == error::port_in_use);
  CHECK(e.unbind(s2, protocol::udp, 53) == error::not_owner);
  CHECK(e.unbind(s1, protocol::udp, 54) == error::not_bound);
  CHECK(e.bind(no_slice, protocol::udp, 54) == error::invalid_slice);
  CHECK(e.unbind(s1, protocol::udp, 53) == error::none);
  CHECK(e.bound_slice(protocol::udp, 53) == s1); // one socket left
  CHECK(out(s2, udp(node, 53, host, 53)) == reject(reason::port_bound));
  CHECK(e.unbind(s1, protocol::udp, 53) == error::none);
  CHECK(e.bound_slice(protocol::udp, 53) == no_slice);
  CHECK(out(s2, udp(node, 53, host, 53)) == accept(s2));
}

TEST_CASE_METHOD(fixture, "lets a binding slice send through any raw or packet socket",
                 "[policy][bind]") {
  REQUIRE(e.bind(s1, protocol::tcp, 8080) == error::none);
  auto syn = tcp(node, 8080, host, 443, tcp_syn);
  CHECK(out(s1, syn) == accept(s1));                                     // raw IP
  CHECK(out(s1, with_ethernet(syn), link_kind::ethernet) == accept(s1)); // SOCK_RAW
  CHECK(out(s1, tcp(node, 8080, host2, 443, tcp_syn)) == accept(s1));    // other peer
  CHECK(out(s2, with_ethernet(syn), link_kind::ethernet) == reject(reason::port_bound));
}

TEST_CASE_METHOD(fixture, "gives an unbound connection to its last sender (lazy binding)",
                 "[policy][lazy]") {
  auto q = udp(node, 5000, host, 53);
  auto reply = udp(host, 53, node, 5000);
  CHECK(out(s1, q) == accept(s1));
  CHECK(in(reply) == accept(s1));
  CHECK(out(s2, q) == accept(s2));
  CHECK(in(reply) == accept(s2));
  // Another remote on the same local port is another connection.
  CHECK(out(s1, udp(node, 5000, host2, 53)) == accept(s1));
  CHECK(in(udp(host2, 53, node, 5000)) == accept(s1));
  CHECK(in(reply) == accept(s2));
}

TEST_CASE_METHOD(fixture, "seed ping example: same identifier, same host, last sender wins",
                 "[policy][lazy][ping]") {
  constexpr std::uint16_t id = 0x4242;
  auto echo = icmp(node, host, id, 8);
  auto echo_reply = icmp(host, node, id, 0);
  CHECK(out(s1, echo) == accept(s1));
  CHECK(in(echo_reply) == accept(s1));
  CHECK(out(s2, echo) == accept(s2)); // same identifier, same host
  CHECK(in(echo_reply) == accept(s2));
  CHECK(in(echo_reply) == accept(s2)); // s1 no longer sees replies
  // Pinging a different host with the same identifier is a separate connection.
  CHECK(out(s1, icmp(node, host2, id, 8)) == accept(s1));
  CHECK(in(icmp(host2, node, id, 0)) == accept(s1));
  CHECK(in(echo_reply) == accept(s2));
  CHECK(e.counters_of(s2).received_packets == 3);
  CHECK(e.counters_of(s1).received_packets == 2);
}

TEST_CASE_METHOD(fixture, "delivers all datagrams of a bound port to its slice",
                 "[policy][inbound]") {
  REQUIRE(e.bind(s1, protocol::tcp, 80) == error::none);
  CHECK(in(tcp(host, 40000, node, 80, tcp_syn)) == accept(s1));
  CHECK(in(tcp(host2, 40001, node2, 80, tcp_syn)) == accept(s1));
  CHECK(in(udp(host, 40000, node, 80)) == accept(root_slice)); // UDP 80 is not bound
  // A binding outranks a connection another slice initiated from that port.
  CHECK(out(s2, udp(node, 7000, host, 9)) == accept(s2));
  REQUIRE(e.bind(s1, protocol::udp, 7000) == error::none);
  CHECK(in(udp(host, 9, node, 7000)) == accept(s1));
  CHECK(out(s2, udp(node, 7000, host, 9)) == reject(reason::port_bound));
}

TEST_CASE_METHOD(fixture, "keeps connections a slice initiated after its port is released",
                 "[policy][inbound]") {
  REQUIRE(e.bind(s1, protocol::tcp, 22) == error::none);
  CHECK(out(s1, tcp(node, 22, host, 50000, tcp_syn | tcp_ack)) == accept(s1));
  REQUIRE(e.unbind(s1, protocol::tcp, 22) == error::none);
  CHECK(in(tcp(host, 50000, node, 22)) == accept(s1));
  CHECK(in(tcp(host2, 50000, node, 22)) == accept(root_slice));
}

TEST_CASE_METHOD(fixture, "sends unowned datagrams to the root context or drops them",
                 "[policy][inbound]") {
  CHECK(in(udp(host, 1, node, 9999)) == accept(root_slice));
  CHECK(in(ip_header{host, node, 47}.build(bytes(8, 0))) == accept(root_slice));
  CHECK(in(icmp(host, node, 5, 8)) == accept(root_slice)); // pings are the host's to answer
  e.set_unowned_policy(unowned_policy::drop);
  CHECK(in(udp(host, 1, node, 9999)) == reject(reason::unowned));
  CHECK(in(ip_header{host, node, 47}.build(bytes(8, 0))) == reject(reason::unowned));
  CHECK(e.counters().inbound_rejects[static_cast<int>(reason::unowned)] == 2);
}

TEST_CASE_METHOD(fixture, "answers incoming echo requests from the host, not the slice",
                 "[policy][inbound][ping]") {
  CHECK(out(s1, icmp(node, host, 5, 8)) == accept(s1));
  CHECK(in(icmp(host, node, 5, 8)) == accept(root_slice));
  CHECK(in(icmp(host, node, 5, 0)) == accept(s1));
}

TEST_CASE_METHOD(fixture, "routes ICMP errors to the owner of the quoted connection",
                 "[policy][inbound]") {
  auto probe = udp(node, 33434, host, 33435);
  CHECK(out(s1, probe) == accept(s1));
  CHECK(in(icmp_error(host2, node, 11, probe)) == accept(s1)); // time exceeded from a router
  CHECK(in(icmp_error(host, node, 3, probe)) == accept(s1));   // port unreachable
  auto ping = icmp(node, host, 31, 8);
  CHECK(out(s2, ping) == accept(s2));
  CHECK(in(icmp_error(host2, node, 11, ping)) == accept(s2));
  CHECK(in(icmp_error(host, node, 3, udp(node, 1, host, 2))) == accept(root_slice));
  auto cut = probe;
  cut.resize(24);
  CHECK(in(icmp_error(host, node, 3, cut)) == reject(reason::malformed));
  REQUIRE(e.bind(s2, protocol::udp, 33434) == error::none);
  CHECK(in(icmp_error(host, node, 3, probe)) == accept(s2));
}

TEST_CASE_METHOD(fixture, "refuses inbound datagrams it cannot place", "[policy][inbound]") {
  CHECK(in(udp(host, 1, other, 2)) == reject(reason::destination_not_local));
  CHECK(in(bytes{}) == reject(reason::malformed));
  auto bad = udp(host, 1, node, 2);
  bad[3] = 200;
  CHECK(in(bad) == reject(reason::malformed));
  ip_header mf{host, node, 17};
  mf.frag = 0x2000;
  CHECK(in(mf.build(udp_datagram(1, 2))) == reject(reason::fragment));
  auto short_udp = ip_header{host, node, 17}.build(udp_datagram(1, 2, 4, 40));
  CHECK(in(short_udp) == reject(reason::malformed));
  CHECK(in(with_ethernet(udp(host, 1, node, 2)), link_kind::ethernet) == accept(root_slice));
}

TEST_CASE_METHOD(fixture, "expires connections by protocol timeout", "[policy][expiry]") {
  timeouts t;
  t.udp = seconds(30);
  t.icmp = seconds(10);
  t.tcp = seconds(300);
  t.tcp_closing = seconds(5);
  e.set_timeouts(t);
  auto reply = udp(host, 53, node, 5000);
  CHECK(out(s1, udp(node, 5000, host, 53)) == accept(s1));
  now += seconds(29);
  CHECK(in(reply) == accept(s1)); // refreshes the connection
  now += seconds(29);
  CHECK(in(reply) == accept(s1));
  now += seconds(30);
  CHECK(in(reply) == accept(root_slice));

  CHECK(out(s1, icmp(node, host, 3)) == accept(s1));
  now += seconds(9);
  CHECK(in(icmp(host, node, 3, 0)) == accept(s1));
  now += seconds(10);
  CHECK(in(icmp(host, node, 3, 0)) == accept(root_slice));

  CHECK(out(s1, tcp(node, 6000, host, 80, tcp_syn)) == accept(s1));
  now += seconds(299);
  CHECK(in(tcp(host, 80, node, 6000)) == accept(s1));
  CHECK(out(s1, tcp(node, 6000, host, 80, tcp_fin | tcp_ack)) == accept(s1));
  now += seconds(10); // one FIN: still the long timeout
  CHECK(in(tcp(host, 80, node, 6000, tcp_fin | tcp_ack)) == accept(s1));
  now += seconds(4);
  CHECK(in(tcp(host, 80, node, 6000)) == accept(s1));
  now += seconds(5); // both FINs seen: the closing timeout applies
  CHECK(in(tcp(host, 80, node, 6000)) == accept(root_slice));

  CHECK(out(s1, tcp(node, 6001, host, 80, tcp_syn)) == accept(s1));
  CHECK(in(tcp(host, 80, node, 6001, tcp_rst)) == accept(s1));
  CHECK(out(s1, tcp(node, 6001, host, 80, tcp_syn)) == accept(s1)); // a new SYN reopens
  now += seconds(6);
  CHECK(in(tcp(host, 80, node, 6001)) == accept(s1));
  CHECK(out(s1, tcp(node, 6001, host, 80, tcp_rst)) == accept(s1));
  now += seconds(5);
  CHECK(in(tcp(host, 80, node, 6001)) == accept(root_slice));
  CHECK(e.expire(now, 4096) == e.connection_count());
}

TEST_CASE("bounds the table and evicts idle unbound connections first", "[policy][evict]") {
  engine_config c = config();
  c.max_connections = 8;
  engine e{c};
  time_ns now = t0;
  auto out = [&](slice_id s, const bytes& b) {
    return e.decide(packet_ref{b, s, direction::outbound}, now);
  };
  auto in = [&](const bytes& b) {
    return e.decide(packet_ref{b, no_slice, direction::inbound}, now);
  };
  REQUIRE(e.bind(s2, protocol::tcp, 443) == error::none);
  for (std::uint16_t i = 0; i < 4; ++i) // connections on a bound port
    REQUIRE(out(s2, tcp(node, 443, host, static_cast<std::uint16_t>(1000 + i))) == accept(s2));
  for (std::uint16_t i = 0; i < 4; ++i) // lazily owned ones
    REQUIRE(out(s1, udp(node, static_cast<std::uint16_t>(5000 + i), host, 53)) == accept(s1));
  REQUIRE(e.connection_count() == 8);
  for (std::uint16_t i = 0; i < 4; ++i) // each needs room
    REQUIRE(out(s1, udp(node, static_cast<std::uint16_t>(6000 + i), host2, 53)) == accept(s1));
  CHECK(e.connection_count() == 8);
  auto k = e.counters();
  CHECK(k.evictions == 4);
  CHECK(k.bound_evictions == 0);
  // The bound-port connections survived; all earlier unbound ones went.
  for (std::uint16_t i = 0; i < 4; ++i)
    CHECK(e.connection(flow_key{node, host, 443, static_cast<std::uint16_t>(1000 + i), 6}, now) !=
          nullptr);
  for (std::uint16_t i = 0; i < 4; ++i)
    CHECK(in(udp(host, 53, node, static_cast<std::uint16_t>(5000 + i))) == accept(root_slice));
  // Expired entries are reclaimed before anything live is evicted.
  now += seconds(61);
  REQUIRE(out(s1, udp(node, 7000, host2, 53)) == accept(s1));
  CHECK(e.counters().evictions == 4);
  CHECK(e.counters().expirations >= 1);
}

TEST_CASE("evicts recently used unbound connections last", "[policy][evict]") {
  engine_config c = config();
  c.max_connections = 4;
  engine e{c};
  time_ns now = t0;
  auto send = [&](std::uint16_t port) {
    return e.decide(packet_ref{udp(node, port, host, 53), s1, direction::outbound}, now);
  };
  for (std::uint16_t p = 1; p <= 4; ++p)
    REQUIRE(send(p).accepted());
  REQUIRE(send(5).accepted()); // the first eviction sweep clears every reference bit
  REQUIRE(send(2).accepted()); // 2 is referenced again (or recreated)
  REQUIRE(send(6).accepted());
  const auto live = [&](std::uint16_t p) {
    return e.connection(flow_key{node, host, p, 53, 17}, now) != nullptr;
  };
  CHECK(live(2));
  CHECK(live(6));
  CHECK(e.connection_count() == 4);
}

TEST_CASE_METHOD(fixture, "identifies the slice at the other end of a loopback connection",
                 "[policy][peer]") {
  REQUIRE(e.bind(s2, protocol::tcp, 80) == error::none);
  CHECK(out(s1, tcp(lo, 40000, lo, 80, tcp_syn)) == accept(s1));
  CHECK(out(s2, tcp(lo, 80, lo, 40000, tcp_syn | tcp_ack)) == accept(s2));
  // From the client's end the peer is the server's binder, and vice versa.
  CHECK(e.peer_slice(protocol::tcp, lo, 40000, lo, 80, now) == s2);
  CHECK(e.peer_slice(protocol::tcp, lo, 80, lo, 40000, now) == s1);
  // Through the node's own address as well.
  CHECK(out(s1, udp(node, 6000, node, 7000)) == accept(s1));
  CHECK(e.peer_slice(protocol::udp, node, 7000, node, 6000, now) == s1);
  // Not a loopback peer, or nothing known about it.
  CHECK(e.peer_slice(protocol::tcp, lo, 80, host, 40000, now) == std::nullopt);
  CHECK(e.peer_slice(protocol::tcp, lo, 80, lo, 40001, now) == std::nullopt);
}

TEST_CASE_METHOD(fixture, "transfers socket ownership only at the root's request",
                 "[policy][transfer]") {
  REQUIRE(e.bind(root_slice, protocol::tcp, 80) == error::none);
  CHECK(e.transfer(s1, protocol::tcp, 80, s1) == error::not_permitted);
  CHECK(e.bound_slice(protocol::tcp, 80) == root_slice);
  CHECK(e.transfer(root_slice, protocol::tcp, 81, s1) == error::not_bound);
  CHECK(e.transfer(root_slice, protocol::tcp, 80, no_slice) == error::invalid_slice);
  CHECK(e.transfer(root_slice, protocol::tcp, 80, s1) == error::none);
  CHECK(e.bound_slice(protocol::tcp, 80) == s1);
  CHECK(out(s1, tcp(node, 80, host, 4000)) == accept(s1));
  CHECK(out(root_slice, tcp(node, 80, host, 4000)) == reject(reason::port_bound));
  CHECK(in(tcp(host, 4000, node, 80)) == accept(s1));
  // The new owner releases it like its own binding.
  CHECK(e.unbind(s1, protocol::tcp, 80) == error::none);
  CHECK(e.bound_slice(protocol::tcp, 80) == no_slice);
}

TEST_CASE_METHOD(fixture, "gives a proxy device to one slice at a time", "[policy][proxy]") {
  const prefix space{make_addr(10, 0, 1, 0), 28};
  auto added = e.add_proxy_device("proxy0", space);
  REQUIRE(added.err == error::none);
  const auto dev = added.device;
  CHECK(e.add_proxy_device("proxy0", space).err == error::duplicate_device);
  CHECK(e.add_proxy_device("proxy1", prefix{make_addr(10, 0, 1, 1), 28}).err == error::bad_prefix);

  auto b1 = e.bind_packet_socket(s1, "proxy0", eth_p_ip);
  CHECK(b1.err == error::none);
  CHECK(b1.device == dev);
  CHECK(e.bind_packet_socket(s2, "proxy0", eth_p_ip).err == error::device_busy);
  CHECK(e.bind_packet_socket(s1, "proxy0", eth_p_all).err == error::none); // tcpdump
  CHECK(e.release_packet_socket(s2, dev) == error::not_owner);
  CHECK(e.release_packet_socket(s1, dev) == error::none);
  CHECK(e.bind_packet_socket(s2, "proxy0", eth_p_ip).err == error::device_busy);
  CHECK(e.release_packet_socket(s1, dev) == error::none);
  CHECK(e.release_packet_socket(s1, dev) == error::not_bound);
  CHECK(e.bind_packet_socket(s2, "proxy0", eth_p_ip).err == error::none);
  CHECK(e.proxies().holder(dev) == s2);
}

TEST_CASE_METHOD(fixture, "restricts packet sockets to IP, vnet and proxies, never promiscuous",
                 "[policy][proxy]") {
  REQUIRE(e.add_proxy_device("proxy0", prefix{make_addr(10, 0, 1, 0), 28}).err == error::none);
  CHECK(e.bind_packet_socket(s1, "vnet", eth_p_ip).err == error::none);
  CHECK(e.bind_packet_socket(s2, "vnet", eth_p_all).err == error::none);        // many slices
  CHECK(e.bind_packet_socket(s1, "vnet", 0x86DD).err == error::bad_protocol);   // IPv6
  CHECK(e.bind_packet_socket(s1, "proxy0", 0x0806).err == error::bad_protocol); // ARP
  CHECK(e.bind_packet_socket(s1, "eth0", eth_p_ip).err == error::interface_not_allowed);
  CHECK(e.bind_packet_socket(s1, "lo", eth_p_ip).err == error::interface_not_allowed);
  CHECK(e.bind_packet_socket(s1, "vnet", eth_p_ip, true).err == error::promiscuous_refused);
  CHECK(e.bind_packet_socket(s1, "proxy0", eth_p_all, true).err == error::promiscuous_refused);
  CHECK(e.proxies().holder(1) == no_slice); // refused binds take nothing
  CHECK(e.set_promiscuous(vnet_device, true) == error::promiscuous_refused);
  CHECK(e.set_promiscuous(1, true) == error::promiscuous_refused);
  CHECK(e.set_promiscuous(1, false) == error::none);
  CHECK(e.set_promiscuous(9, false) == error::no_such_device);
}

TEST_CASE_METHOD(fixture, "routes a proxy device's address space to its holder",
                 "[policy][proxy]") {
  const auto dev = e.add_proxy_device("proxy0", prefix{make_addr(10, 0, 1, 0), 28}).device;
  const ipv4_addr honeypot = make_addr(10, 0, 1, 5);
  CHECK(in(tcp(host, 1, honeypot, 445, tcp_syn)) == reject(reason::unowned));
  REQUIRE(e.bind_packet_socket(s1, "proxy0", eth_p_all).err == error::none);
  CHECK(in(tcp(host, 1, honeypot, 445, tcp_syn)) == accept(s1));
  CHECK(in(ip_header{host, honeypot, 47}.build(bytes(8, 0))) == accept(s1));
  CHECK(in(udp(host, 1, make_addr(10, 0, 1, 16), 2)) == reject(reason::destination_not_local));
  // The holder answers from the proxied space, any protocol, with link headers.
  CHECK(out(s1, with_ethernet(tcp(honeypot, 445, host, 1, tcp_syn | tcp_ack)), link_kind::ethernet,
            dev) == accept(s1));
  CHECK(out(s1, icmp_error(honeypot, host, 3, udp(host, 1, honeypot, 2)), link_kind::ip, dev) ==
        accept(s1));
  CHECK(out(s1, udp(node, 1, host, 2), link_kind::ip, dev) == reject(reason::source_not_local));
  CHECK(out(s2, udp(honeypot, 1, host, 2), link_kind::ip, dev) == reject(reason::proxy_not_held));
  CHECK(out(s1, udp(honeypot, 1, host, 2), link_kind::ip, 7) == reject(reason::proxy_not_held));
  ip_header mf{honeypot, host, 17};
  mf.frag = 0x2000;
  CHECK(out(s1, mf.build(udp_datagram(1, 2)), link_kind::ip, dev) == reject(reason::fragment));
  e.add_blacklist(prefix{host, 32});
  CHECK(out(s1, udp(honeypot, 1, host, 2), link_kind::ip, dev) == reject(reason::blacklisted));
  // A slice cannot use the proxied addresses through the vnet interface.
  CHECK(out(s1, udp(honeypot, 1, host2, 2)) == reject(reason::source_not_local));
}

TEST_CASE_METHOD(fixture, "counts traffic per slice and refusals per reason",
                 "[policy][counters]") {
  REQUIRE(e.bind(s2, protocol::udp, 53) == error::none);
  out(s1, udp(node, 5000, host, 53, 12));  // 40 bytes
  out(s1, udp(node, 53, host, 53));        // port bound
  out(s1, udp(other, 1, host, 53));        // not local
  out(s2, tcp(node, 1, host, 2, tcp_syn)); // 40 bytes
  in(udp(host, 53, node, 5000, 2));        // 30 bytes to s1
  in(udp(host, 9, node, 53));              // 28 bytes to s2
  in(udp(host, 9, node, 9));               // 28 bytes to root
  in(udp(host, 9, other, 9));              // not local
  const auto c1 = e.counters_of(s1);
  CHECK(c1 == slice_counters{1, 40, 1, 30, 2});
  CHECK(e.counters_of(s2) == slice_counters{1, 40, 1, 28, 0});
  CHECK(e.counters_of(root_slice) == slice_counters{0, 0, 1, 28, 0});
  CHECK(e.counters_of(99) == slice_counters{});
  const auto k = e.counters();
  CHECK(k.outbound_accepted == 2);
  CHECK(k.inbound_accepted == 3);
  CHECK(k.outbound_rejects[static_cast<int>(reason::port_bound)] == 1);
  CHECK(k.outbound_rejects[static_cast<int>(reason::source_not_local)] == 1);
  CHECK(k.inbound_rejects[static_cast<int>(reason::destination_not_local)] == 1);
  CHECK(k.connections_created == 2);
  CHECK(e.all_slice_counters().size() == 3);
  // Ids beyond the dense range are counted as well.
  out(0x7FFFFFFF, udp(node, 4, host, 5));
  CHECK(e.counters_of(0x7FFFFFFF).sent_packets == 1);
}

TEST_CASE("decides a batch exactly as one packet at a time", "[policy][batch]") {
  engine_config c = config();
  c.max_connections = 16; // small enough that the batch evicts, too
  engine one{c};
  engine many{c};
  std::vector<bytes> pkts;
  std::vector<packet_ref> refs;
  for (std::uint16_t i = 0; i < 200; ++i) {
    const auto port = static_cast<std::uint16_t>(1000 + i % 37);
    if (i % 3 == 0)
      pkts.push_back(udp(host, 53, node, port));
    else if (i % 7 == 0)
      pkts.push_back(icmp(node, host, port));
    else
      pkts.push_back(udp(node, port, host, 53));
  }
  for (std::size_t i = 0; i < pkts.size(); ++i)
    refs.push_back(packet_ref{pkts[i], static_cast<slice_id>(1 + i % 5),
                              i % 3 == 0 ? direction::inbound : direction::outbound});
  std::vector<verdict> a;
  for (const auto& r : refs)
    a.push_back(one.decide(r, t0));
  std::vector<verdict> b(refs.size());
  many.decide_batch(refs, b, t0);
  CHECK(a == b);
  CHECK(one.counters() == many.counters());
  CHECK(one.counters().evictions > 0);
}

TEST_CASE("names every reason and error", "[policy]") {
  for (std::size_t r = 0; r < reason_count; ++r)
    CHECK(std::string{to_string(static_cast<reason>(r))} != "unknown");
  CHECK(std::string{to_string(reason::port_bound)} == "port_bound");
  CHECK(std::string{to_string(error::device_busy)} == "device_busy");
}
