#include "vnet/packet.hpp"

namespace pl::vnet {

namespace {

constexpr std::size_t ip_min_header = 20;
constexpr std::size_t tcp_min_header = 20;
constexpr std::size_t udp_header = 8;
constexpr std::size_t icmp_header = 8;

// Callers check bounds first; these only assemble big-endian values.
inline std::uint16_t rd16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

inline std::uint32_t rd32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Reads the tuple of the datagram quoted in an ICMP error. RFC 792 quotes the
// IP header plus at least 8 bytes, which is exactly what holds the ports (or
// the ICMP identifier); the quoted total length is usually larger than what
// was quoted, so it is not checked against the buffer.
bool parse_quoted(const std::uint8_t* p, std::size_t n, quoted_tuple& out) noexcept {
  if (n < ip_min_header || (p[0] >> 4) != 4)
    return false;
  const std::size_t ihl = std::size_t{p[0] & 0x0Fu} * 4;
  if (ihl < ip_min_header || ihl + 8 > n)
    return false;
  if ((rd16(p + 6) & 0x1FFFu) != 0)
    return false; // a non-first fragment quotes no transport header
  const std::uint8_t* t = p + ihl;
  out.proto = p[9];
  out.src = rd32(p + 12);
  out.dst = rd32(p + 16);
  switch (out.proto) {
  case 6:
  case 17:
    out.sport = rd16(t);
    out.dport = rd16(t + 2);
    return true;
  case 1:
    if (!is_icmp_query(t[0]))
      return false;
    out.sport = rd16(t + 4);
    out.dport = 0;
    return true;
  default:
    return false;
  }
}

} // namespace

parsed_packet parse(std::span<const std::uint8_t> bytes, link_kind link) noexcept {
  parsed_packet r;
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  if (link == link_kind::ethernet) {
    if (n < ethernet_header_size)
      return r;
    p += ethernet_header_size;
    n -= ethernet_header_size;
  }
  if (n < ip_min_header || (p[0] >> 4) != 4)
    return r;
  const std::size_t ihl = std::size_t{p[0] & 0x0Fu} * 4;
  const std::size_t total = rd16(p + 2);
  if (ihl < ip_min_header || total < ihl || total > n)
    return r;
  const std::uint16_t frag = rd16(p + 6);
  if (frag & 0x8000u)
    return r; // the reserved flag must be zero (RFC 791)
  r.ip_ok = true;
  r.proto = p[9];
  r.ip_length = static_cast<std::uint16_t>(total);
  r.src = rd32(p + 12);
  r.dst = rd32(p + 16);
  if ((frag & 0x2000u) || (frag & 0x1FFFu)) {
    r.status = parse_status::fragment;
    return r;
  }
  if (!is_trackable(r.proto)) {
    r.status = parse_status::not_trackable;
    return r;
  }
  const std::uint8_t* t = p + ihl;
  const std::size_t tn = total - ihl;
  switch (r.proto) {
  case 6: {
    if (tn < tcp_min_header)
      return r;
    const std::size_t doff = static_cast<std::size_t>(t[12] >> 4) * 4;
    if (doff < tcp_min_header || doff > tn)
      return r;
    r.sport = rd16(t);
    r.dport = rd16(t + 2);
    r.tcp_flags = t[13];
    r.status = parse_status::ok;
    return r;
  }
  case 17: {
    if (tn < udp_header)
      return r;
    const std::size_t ulen = rd16(t + 4);
    if (ulen < udp_header || ulen > tn)
      return r;
    r.sport = rd16(t);
    r.dport = rd16(t + 2);
    r.status = parse_status::ok;
    return r;
  }
  default: { // ICMP
    if (tn < icmp_header)
      return r;
    r.icmp_type = t[0];
    if (is_icmp_error(r.icmp_type)) {
      r.has_inner = parse_quoted(t + icmp_header, tn - icmp_header, r.inner);
      r.status = parse_status::icmp_error;
    } else if (is_icmp_query(r.icmp_type)) {
      r.sport = rd16(t + 4);
      r.dport = 0;
      r.status = parse_status::ok;
    } else {
      r.status = parse_status::icmp_other;
    }
    return r;
  }
  }
}

} // namespace pl::vnet
