#pragma once

// Bounds-checked IPv4/TCP/UDP/ICMP parsing (seed 4.4.5): every field is read
// only after the bytes it occupies are known to be inside both the buffer and
// the datagram's own total length.

#include "vnet/types.hpp"

#include <cstdint>
#include <span>

namespace pl::vnet {

/// Classifies a buffer; each value maps to one policy decision.
///
/// The checks run in this order, and the first failing one decides:
/// IP header, fragment, protocol, transport header, ICMP type.
enum class parse_status : std::uint8_t {
  /// A trackable TCP or UDP datagram, or an ICMP query with an identifier.
  ok,
  /// The IP header, or the transport header of a trackable protocol, is broken.
  malformed,
  /// A fragment (MF set or a non-zero offset); the addresses are valid.
  fragment,
  /// A well-formed datagram of a protocol other than TCP, UDP and ICMP.
  not_trackable,
  /// An ICMP error message; `inner` holds the quoted datagram if readable.
  icmp_error,
  /// An ICMP message that is neither a query with an identifier nor an error.
  icmp_other,
};

/// Holds the connection tuple quoted inside an ICMP error message.
struct quoted_tuple {
  ipv4_addr src = 0;
  ipv4_addr dst = 0;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint8_t proto = 0;
};

/// Holds what the policy needs from one datagram.
///
/// `src`, `dst`, `proto` and `ip_length` are valid unless `status` is
/// `malformed` with `ip_ok == false`. Ports are valid for `ok`; for ICMP the
/// identifier is `sport` and `dport` is 0, so that an echo request and its
/// reply map to the same connection tuple.
struct parsed_packet {
  parse_status status = parse_status::malformed;
  /// True once the IP header itself passed its checks.
  bool ip_ok = false;
  /// True for an ICMP error whose quoted datagram yielded a tuple.
  bool has_inner = false;
  std::uint8_t proto = 0;
  std::uint8_t icmp_type = 0;
  /// TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10).
  std::uint8_t tcp_flags = 0;
  std::uint16_t ip_length = 0;
  ipv4_addr src = 0;
  ipv4_addr dst = 0;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  quoted_tuple inner;
};

/// TCP flag bits as they appear in the header.
inline constexpr std::uint8_t tcp_fin = 0x01;
inline constexpr std::uint8_t tcp_syn = 0x02;
inline constexpr std::uint8_t tcp_rst = 0x04;
inline constexpr std::uint8_t tcp_ack = 0x10;

/// Tells whether ICMP `type` is an error message (RFC 792/1812: 3, 4, 5, 11, 12).
constexpr bool is_icmp_error(std::uint8_t type) {
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/// Tells whether ICMP `type` is a query or reply carrying an identifier.
constexpr bool is_icmp_query(std::uint8_t type) {
  return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

/// Tells whether ICMP `type` is a request (as opposed to the matching reply).
constexpr bool is_icmp_request(std::uint8_t type) {
  return type == 8 || type == 13 || type == 15 || type == 17;
}

/// Parses `bytes` as an IPv4 datagram preceded by `link` header space.
///
/// Trailing bytes beyond the IP total length (Ethernet padding) are ignored.
/// Checksums are not verified: the kernel fills them for raw sockets, and a
/// wrong checksum hurts only the sender.
parsed_packet parse(std::span<const std::uint8_t> bytes, link_kind link) noexcept;

} // namespace pl::vnet
