#pragma once

// Builds test datagrams byte by byte, independently of the engine's parser,
// so that every field (including broken ones) can be set by hand.

#include <algorithm>
#include <cstdint>
#include <vector>

namespace pl::vnet::test {

using bytes = std::vector<std::uint8_t>;

/// Appends `v` in network byte order.
inline void put16(bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

/// Appends `v` in network byte order.
inline void put32(bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}

/// Describes an IPv4 header; every field can be set to a wrong value.
struct ip_header {
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  std::uint8_t proto = 6;
  std::uint8_t version = 4;
  /// The IHL field; the header emitted is max(ihl, 5) * 4 bytes long.
  std::uint8_t ihl = 5;
  /// Flags (reserved 0x8000, DF 0x4000, MF 0x2000) and fragment offset.
  std::uint16_t frag = 0x4000;
  /// The total length field; negative means "header plus transport bytes".
  int total_length = -1;

  /// Returns the header followed by `transport`.
  bytes build(const bytes& transport) const {
    const std::size_t header = (ihl < 5 ? 5u : ihl) * 4u;
    bytes b;
    b.push_back(static_cast<std::uint8_t>((version << 4) | (ihl & 0x0F)));
    b.push_back(0); // TOS
    const auto total =
        total_length < 0 ? header + transport.size() : static_cast<std::size_t>(total_length);
    put16(b, static_cast<std::uint16_t>(total));
    put16(b, 0x1234); // identification
    put16(b, frag);
    b.push_back(64); // TTL
    b.push_back(proto);
    put16(b, 0); // checksum: the engine does not verify it
    put32(b, src);
    put32(b, dst);
    while (b.size() < header)
      b.push_back(1); // NOP options
    b.insert(b.end(), transport.begin(), transport.end());
    return b;
  }
};

/// Returns a TCP header with `data_offset` words and `payload` zero bytes.
inline bytes tcp_segment(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags,
                         std::size_t payload = 0, std::uint8_t data_offset = 5) {
  bytes b;
  put16(b, sport);
  put16(b, dport);
  put32(b, 1000); // seq
  put32(b, 0);    // ack
  b.push_back(static_cast<std::uint8_t>(data_offset << 4));
  b.push_back(flags);
  put16(b, 65535); // window
  put16(b, 0);     // checksum
  put16(b, 0);     // urgent
  while (b.size() < std::size_t{data_offset} * 4)
    b.push_back(1); // NOP options
  b.insert(b.end(), payload, 0);
  return b;
}

/// Returns a UDP header and `payload` bytes; `length` < 0 means correct.
inline bytes udp_datagram(std::uint16_t sport, std::uint16_t dport, std::size_t payload = 0,
                          int length = -1) {
  bytes b;
  put16(b, sport);
  put16(b, dport);
  put16(b, static_cast<std::uint16_t>(length < 0 ? 8 + payload : length));
  put16(b, 0);
  b.insert(b.end(), payload, 0xAB);
  return b;
}

/// Returns an ICMP message with identifier `id` (for queries) and `payload`.
inline bytes icmp_message(std::uint8_t type, std::uint16_t id, const bytes& payload = {},
                          std::uint8_t code = 0) {
  bytes b;
  b.push_back(type);
  b.push_back(code);
  put16(b, 0);  // checksum
  put16(b, id); // identifier (queries) or unused (errors)
  put16(b, 1);  // sequence
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

/// Returns a TCP/IP datagram.
inline bytes tcp(std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport,
                 std::uint8_t flags = 0x10, std::size_t payload = 0) {
  return ip_header{src, dst, 6}.build(tcp_segment(sport, dport, flags, payload));
}

/// Returns a UDP/IP datagram.
inline bytes udp(std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport,
                 std::size_t payload = 0) {
  return ip_header{src, dst, 17}.build(udp_datagram(sport, dport, payload));
}

/// Returns an ICMP echo request (type 8) or another query type.
inline bytes icmp(std::uint32_t src, std::uint32_t dst, std::uint16_t id, std::uint8_t type = 8) {
  return ip_header{src, dst, 1}.build(icmp_message(type, id, bytes(8, 0x55)));
}

/// Returns an ICMP error of `type` quoting the first 28 bytes of `quoted`.
inline bytes icmp_error(std::uint32_t src, std::uint32_t dst, std::uint8_t type,
                        const bytes& quoted) {
  bytes q(quoted.begin(),
          quoted.begin() + static_cast<long>(std::min<std::size_t>(28, quoted.size())));
  return ip_header{src, dst, 1}.build(icmp_message(type, 0, q));
}

/// Returns `b` behind 14 bytes of garbage Ethernet header (SOCK_RAW packet sockets).
inline bytes with_ethernet(const bytes& b) {
  bytes out{0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x12, 0x34};
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

} // namespace pl::vnet::test
