// Parser tests: well-formed datagrams of each protocol, and every way a
// header can lie about its own size.

#include "tests/vnet/packet_builder.hpp"
#include "vnet/packet.hpp"

#include <catch2/catch.hpp>

using namespace pl::vnet;
using namespace pl::vnet::test;

namespace {

constexpr ipv4_addr a = make_addr(10, 0, 0, 1);
constexpr ipv4_addr b = make_addr(192, 0, 2, 7);

parsed_packet p(const bytes& x, link_kind l = link_kind::ip) {
  return parse(x, l);
}

} // namespace

TEST_CASE("parses TCP, UDP and ICMP queries into their tuples", "[packet]") {
  auto t = p(tcp(a, 40000, b, 80, tcp_syn, 10));
  CHECK(t.status == parse_status::ok);
  CHECK(t.ip_ok);
  CHECK(t.proto == 6);
  CHECK(t.src == a);
  CHECK(t.dst == b);
  CHECK(t.sport == 40000);
  CHECK(t.dport == 80);
  CHECK(t.tcp_flags == tcp_syn);
  CHECK(t.ip_length == 20 + 20 + 10);

  auto u = p(udp(a, 5353, b, 53, 3));
  CHECK(u.status == parse_status::ok);
  CHECK(u.proto == 17);
  CHECK(u.sport == 5353);
  CHECK(u.dport == 53);

  for (std::uint8_t type : {0, 8, 13, 14, 15, 16, 17, 18}) {
    auto i = p(icmp(a, b, 0xBEEF, type));
    CHECK(i.status == parse_status::ok);
    CHECK(i.proto == 1);
    CHECK(i.icmp_type == type);
    CHECK(i.sport == 0xBEEF);
    CHECK(i.dport == 0);
  }
}

TEST_CASE("skips Ethernet header space without reading it", "[packet]") {
  auto x = with_ethernet(udp(a, 1, b, 2));
  auto r = p(x, link_kind::ethernet);
  CHECK(r.status == parse_status::ok);
  CHECK(r.sport == 1);
  // The same bytes read as IP are garbage: version nibble 0xD.
  CHECK(p(x, link_kind::ip).status == parse_status::malformed);
  // Shorter than the Ethernet header space.
  CHECK_FALSE(p(bytes(13, 0x45), link_kind::ethernet).ip_ok);
  CHECK_FALSE(p(bytes(14, 0x45), link_kind::ethernet).ip_ok);
}

TEST_CASE("ignores trailing bytes beyond the IP total length", "[packet]") {
  auto x = udp(a, 1, b, 2);
  x.insert(x.end(), 18, 0); // Ethernet minimum-frame padding
  CHECK(p(x).status == parse_status::ok);
  CHECK(p(x).ip_length == 28);
}

TEST_CASE("rejects malformed IP headers", "[packet][malformed]") {
  SECTION("zero-length") {
    CHECK_FALSE(p(bytes{}).ip_ok);
    CHECK(p(bytes{}).status == parse_status::malformed);
  }
  SECTION("truncated header") {
    auto x = udp(a, 1, b, 2);
    for (std::size_t n = 1; n < 20; ++n)
      CHECK_FALSE(p(bytes(x.begin(), x.begin() + static_cast<long>(n))).ip_ok);
  }
  SECTION("version other than 4") {
    ip_header h{a, b, 17};
    h.version = 6;
    CHECK_FALSE(p(h.build(udp_datagram(1, 2))).ip_ok);
  }
  SECTION("IHL below 5") {
    for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
      ip_header h{a, b, 17};
      h.ihl = ihl;
      CHECK_FALSE(p(h.build(udp_datagram(1, 2))).ip_ok);
    }
  }
  SECTION("IHL beyond the total length") {
    ip_header h{a, b, 17};
    h.ihl = 15; // 60 bytes of header
    h.total_length = 40;
    auto x = h.build(udp_datagram(1, 2));
    CHECK_FALSE(p(x).ip_ok);
  }
  SECTION("IHL beyond the buffer") {
    ip_header h{a, b, 17};
    h.ihl = 15;
    auto x = h.build({});
    x.resize(40);
    CHECK_FALSE(p(x).ip_ok);
  }
  SECTION("total length beyond the buffer") {
    ip_header h{a, b, 17};
    h.total_length = 29;
    CHECK_FALSE(p(h.build(udp_datagram(1, 2))).ip_ok);
    h.total_length = 0xFFFF;
    CHECK_FALSE(p(h.build(udp_datagram(1, 2))).ip_ok);
  }
  SECTION("total length below the header") {
    ip_header h{a, b, 17};
    h.total_length = 19;
    CHECK_FALSE(p(h.build(udp_datagram(1, 2))).ip_ok);
  }
  SECTION("reserved flag set") {
    ip_header h{a, b, 17};
    h.frag = 0x8000;
    CHECK_FALSE(p(h.build(udp_datagram(1, 2))).ip_ok);
  }
}

TEST_CASE("honours IP options in the header length", "[packet]") {
  ip_header h{a, b, 6};
  h.ihl = 8;
  auto r = p(h.build(tcp_segment(7, 9, tcp_syn)));
  CHECK(r.status == parse_status::ok);
  CHECK(r.sport == 7);
  CHECK(r.dport == 9);
}

TEST_CASE("rejects truncated or inconsistent transport headers", "[packet][malformed]") {
  SECTION("TCP shorter than 20 bytes") {
    auto seg = tcp_segment(1, 2, tcp_syn);
    seg.resize(19);
    auto r = p(ip_header{a, b, 6}.build(seg));
    CHECK(r.ip_ok);
    CHECK(r.status == parse_status::malformed);
  }
  SECTION("TCP data offset below 5") {
    auto seg = tcp_segment(1, 2, tcp_syn);
    seg[12] = 4 << 4;
    CHECK(p(ip_header{a, b, 6}.build(seg)).status == parse_status::malformed);
  }
  SECTION("TCP data offset beyond the datagram") {
    auto seg = tcp_segment(1, 2, tcp_syn);
    seg[12] = 6 << 4; // 24 bytes claimed, 20 present
    CHECK(p(ip_header{a, b, 6}.build(seg)).status == parse_status::malformed);
  }
  SECTION("TCP cut by the IP total length, not by the buffer") {
    ip_header h{a, b, 6};
    h.total_length = 30;
    CHECK(p(h.build(tcp_segment(1, 2, tcp_syn))).status == parse_status::malformed);
  }
  SECTION("UDP shorter than 8 bytes") {
    auto d = udp_datagram(1, 2);
    d.resize(7);
    CHECK(p(ip_header{a, b, 17}.build(d)).status == parse_status::malformed);
  }
  SECTION("UDP length field beyond the datagram") {
    CHECK(p(ip_header{a, b, 17}.build(udp_datagram(1, 2, 4, 13))).status ==
          parse_status::malformed);
  }
  SECTION("UDP length field below 8") {
    CHECK(p(ip_header{a, b, 17}.build(udp_datagram(1, 2, 4, 7))).status == parse_status::malformed);
  }
  SECTION("ICMP shorter than 8 bytes") {
    auto m = icmp_message(8, 1);
    m.resize(7);
    CHECK(p(ip_header{a, b, 1}.build(m)).status == parse_status::malformed);
  }
}

TEST_CASE("classifies fragments before the protocol", "[packet]") {
  for (std::uint16_t frag : {0x2000, 0x0001, 0x1FFF, 0x6000}) {
    ip_header h{a, b, 47};
    h.frag = frag;
    auto r = p(h.build(bytes(8, 0)));
    CHECK(r.ip_ok);
    CHECK(r.status == parse_status::fragment);
    CHECK(r.dst == b);
  }
  ip_header df{a, b, 17};
  df.frag = 0x4000; // DF alone is not a fragment
  CHECK(p(df.build(udp_datagram(1, 2))).status == parse_status::ok);
}

TEST_CASE("classifies untrackable protocols and ICMP types", "[packet]") {
  CHECK(p(ip_header{a, b, 47}.build(bytes(4, 0))).status == parse_status::not_trackable);
  CHECK(p(ip_header{a, b, 0}.build({})).status == parse_status::not_trackable);
  for (std::uint8_t type : {9, 10, 30, 255})
    CHECK(p(ip_header{a, b, 1}.build(icmp_message(type, 1))).status == parse_status::icmp_other);
  for (std::uint8_t type : {3, 4, 5, 11, 12})
    CHECK(p(ip_header{a, b, 1}.build(icmp_message(type, 1))).status == parse_status::icmp_error);
}

TEST_CASE("reads the tuple quoted in ICMP errors", "[packet]") {
  SECTION("UDP probe (traceroute)") {
    auto r = p(icmp_error(b, a, 11, udp(a, 33434, b, 33435)));
    CHECK(r.status == parse_status::icmp_error);
    REQUIRE(r.has_inner);
    CHECK(r.inner.proto == 17);
    CHECK(r.inner.src == a);
    CHECK(r.inner.dst == b);
    CHECK(r.inner.sport == 33434);
    CHECK(r.inner.dport == 33435);
  }
  SECTION("ICMP echo (traceroute -I)") {
    auto r = p(icmp_error(b, a, 11, icmp(a, b, 777)));
    REQUIRE(r.has_inner);
    CHECK(r.inner.proto == 1);
    CHECK(r.inner.sport == 777);
  }
  SECTION("quote too short for the ports") {
    auto q = udp(a, 1, b, 2);
    q.resize(24);
    auto r = p(icmp_error(b, a, 3, q));
    CHECK(r.status == parse_status::icmp_error);
    CHECK_FALSE(r.has_inner);
  }
  SECTION("quote of a non-first fragment, of GRE, or of an ICMP error") {
    ip_header h{a, b, 17};
    h.frag = 0x0010;
    CHECK_FALSE(p(icmp_error(b, a, 3, h.build(udp_datagram(1, 2)))).has_inner);
    CHECK_FALSE(p(icmp_error(b, a, 3, ip_header{a, b, 47}.build(bytes(8, 0)))).has_inner);
    CHECK_FALSE(p(icmp_error(b, a, 3, icmp_error(a, b, 3, udp(b, 1, a, 2)))).has_inner);
  }
  SECTION("quote with a bad IHL") {
    auto q = udp(a, 1, b, 2);
    q[0] = 0x4F; // 60-byte header claimed, 28 bytes quoted
    CHECK_FALSE(p(icmp_error(b, a, 3, q)).has_inner);
    q[0] = 0x44;
    CHECK_FALSE(p(icmp_error(b, a, 3, q)).has_inner);
  }
}
