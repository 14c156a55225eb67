#pragma once

// The vocabulary of the VNET policy engine (seed section 4.4). Plain C++: no
// CAF, no system calls, so the engine can be tested and fuzzed on its own.

#include <cstddef>
#include <cstdint>

namespace pl::vnet {

/// Identifies a slice by its context id; 0 is the root context (the host).
using slice_id = std::uint32_t;

/// Names the root context, the only slice allowed to transfer sockets (4.4.6).
inline constexpr slice_id root_slice = 0;

/// Marks "no slice": an unbound port, an unheld proxy device, a dropped packet.
inline constexpr slice_id no_slice = 0xFFFFFFFFu;

/// Holds an IPv4 address in host byte order.
using ipv4_addr = std::uint32_t;

/// Builds an address from its dotted-quad parts.
constexpr ipv4_addr make_addr(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return (ipv4_addr{a} << 24) | (ipv4_addr{b} << 16) | (ipv4_addr{c} << 8) | ipv4_addr{d};
}

/// Counts nanoseconds on whatever clock the caller uses; only differences matter.
using time_ns = std::int64_t;

/// Converts seconds to the engine's time unit.
constexpr time_ns seconds(std::int64_t s) {
  return s * 1'000'000'000;
}

/// Lists the trackable IP protocols by their IP protocol numbers.
enum class protocol : std::uint8_t { icmp = 1, tcp = 6, udp = 17 };

/// Tells whether `number` is one of the trackable protocols.
constexpr bool is_trackable(std::uint8_t number) {
  return number == 1 || number == 6 || number == 17;
}

/// Describes what precedes the IP header in a buffer.
enum class link_kind : std::uint8_t {
  /// The buffer starts with the IP header (raw IP and SOCK_DGRAM packet sockets).
  ip,
  /// The buffer starts with 14 bytes of Ethernet header space (SOCK_RAW packet
  /// sockets); the seed says the MAC addresses need not be valid, so the whole
  /// header is skipped unread.
  ethernet,
};

/// Length of the Ethernet header space skipped for `link_kind::ethernet`.
inline constexpr std::size_t ethernet_header_size = 14;

/// Tells whether a packet leaves a slice or arrives for the node.
enum class direction : std::uint8_t { outbound, inbound };

/// Names why a packet was refused; `none` means accepted.
///
/// Outbound reasons follow the seed's list in 4.4.5; the inbound ones say why
/// an arriving datagram reaches no slice.
enum class reason : std::uint8_t {
  none = 0,
  /// Not a well-formed IP datagram (or a truncated transport header).
  malformed,
  /// Protocol is not TCP, UDP or an ICMP query with an identifier.
  not_trackable,
  /// Outbound ICMP error message (destination unreachable, time exceeded, ...).
  icmp_error,
  /// Source address is not an address of this node (or of the held proxy).
  source_not_local,
  /// Source port (ICMP: identifier) is bound by another slice.
  port_bound,
  /// Destination is in the blacklist set by PLC.
  blacklisted,
  /// IP fragment: VNET does not let slices send fragments (4.4.5).
  fragment,
  /// Sent through a proxy device that the sending slice does not hold.
  proxy_not_held,
  /// Inbound datagram for an address this node neither owns nor proxies.
  destination_not_local,
  /// Inbound datagram that no slice owns, dropped by configuration.
  unowned,
};

/// Number of `reason` values, for per-reason counter arrays.
inline constexpr std::size_t reason_count = 11;

/// Returns a stable, lower-case name for `r`.
const char* to_string(reason r) noexcept;

/// Lists the failures of control operations (binds, transfers, proxy devices).
enum class error : std::uint8_t {
  none = 0,
  /// The port is bound by another slice.
  port_in_use,
  /// No binding exists for that protocol and port.
  not_bound,
  /// The binding belongs to another slice.
  not_owner,
  /// Only the root slice may do this (SO_SETXID).
  not_permitted,
  /// The slice id is not valid here (e.g. `no_slice`).
  invalid_slice,
  /// Packet sockets accept only ETH_P_IP and ETH_P_ALL.
  bad_protocol,
  /// Promiscuous mode is refused on VNET devices.
  promiscuous_refused,
  /// Packet sockets bind only to the vnet interface or a proxy device.
  interface_not_allowed,
  /// The proxy device is held by another slice (all-or-nothing access).
  device_busy,
  /// No proxy device with that index or name.
  no_such_device,
  /// A prefix with a length above 32, or host bits set.
  bad_prefix,
  /// A proxy device with that name already exists.
  duplicate_device,
};

/// Returns a stable, lower-case name for `e`.
const char* to_string(error e) noexcept;

/// Carries the decision about one packet.
///
/// Accepted: `why == reason::none` and `slice` is the sender (outbound) or the
/// receiving slice (inbound). Rejected: `slice == no_slice`.
struct verdict {
  slice_id slice = no_slice;
  reason why = reason::none;

  /// Tells whether the packet may pass.
  bool accepted() const noexcept { return why == reason::none; }

  friend bool operator==(const verdict&, const verdict&) = default;
};

/// Builds an accepting verdict for `s`.
constexpr verdict accept(slice_id s) {
  return verdict{s, reason::none};
}

/// Builds a rejecting verdict for `r`.
constexpr verdict reject(reason r) {
  return verdict{no_slice, r};
}

/// Describes an IPv4 prefix such as 10.0.0.0/8.
struct prefix {
  ipv4_addr addr = 0;
  std::uint8_t length = 0;

  /// Tells whether the length is at most 32 and no host bit is set.
  bool valid() const noexcept { return length <= 32 && (addr & ~mask()) == 0; }

  /// Returns the network mask for `length` (0 for /0).
  ipv4_addr mask() const noexcept {
    return length == 0 ? 0 : (length >= 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> length));
  }

  /// Tells whether `a` lies inside the prefix.
  bool contains(ipv4_addr a) const noexcept { return (a & mask()) == addr; }

  friend bool operator==(const prefix&, const prefix&) = default;
};

} // namespace pl::vnet
