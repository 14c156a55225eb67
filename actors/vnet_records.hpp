#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

// The records the vnet actor exchanges (see vnet/README.md). Plain integers
// rather than vnet/'s enums, so actors/ does not depend on vnet/: protocols
// are IP protocol numbers, slices context ids (0xFFFFFFFF = none), reasons
// `pl::vnet::reason` values (0 = accepted).

namespace pl {

/// Carries one datagram for the vnet engine to decide on.
struct vnet_packet {
  std::vector<std::uint8_t> bytes;
  /// The sending slice (outbound only).
  std::uint32_t sender = 0xFFFFFFFFu;
  /// 0 outbound, 1 inbound.
  std::uint8_t direction = 0;
  /// 0: bytes start with the IP header; 1: with 14 bytes of Ethernet header space.
  std::uint8_t link = 0;
  /// 0 for the vnet interface, else the proxy device number.
  std::uint16_t device = 0;

  friend bool operator==(const vnet_packet&, const vnet_packet&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_packet& x) {
  return f(caf::meta::type_name("vnet_packet"), x.bytes, x.sender, x.direction, x.link, x.device);
}

/// Carries a batch of datagrams, decided in order.
struct vnet_batch {
  std::vector<vnet_packet> packets;

  friend bool operator==(const vnet_batch&, const vnet_batch&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_batch& x) {
  return f(caf::meta::type_name("vnet_batch"), x.packets);
}

/// Carries the decision on one datagram: accepted for `slice`, or refused.
struct vnet_verdict {
  /// The sender (outbound) or receiver (inbound); 0xFFFFFFFF when refused.
  std::uint32_t slice = 0xFFFFFFFFu;
  /// 0 when accepted, else the `pl::vnet::reason` of the refusal.
  std::uint8_t reason = 0;

  friend bool operator==(const vnet_verdict&, const vnet_verdict&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_verdict& x) {
  return f(caf::meta::type_name("vnet_verdict"), x.slice, x.reason);
}

/// Carries the verdicts of one batch, one per packet in order.
struct vnet_verdicts {
  std::vector<vnet_verdict> verdicts;

  friend bool operator==(const vnet_verdicts&, const vnet_verdicts&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_verdicts& x) {
  return f(caf::meta::type_name("vnet_verdicts"), x.verdicts);
}

/// Names a socket binding: slice, protocol number and port (ICMP: identifier).
struct vnet_bind {
  std::uint32_t slice = 0;
  std::uint8_t protocol = 0;
  std::uint16_t port = 0;

  friend bool operator==(const vnet_bind&, const vnet_bind&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_bind& x) {
  return f(caf::meta::type_name("vnet_bind"), x.slice, x.protocol, x.port);
}

/// Asks to hand a binding to another slice (SO_SETXID; root only).
struct vnet_transfer {
  std::uint32_t requester = 0;
  std::uint8_t protocol = 0;
  std::uint16_t port = 0;
  std::uint32_t new_owner = 0;

  friend bool operator==(const vnet_transfer&, const vnet_transfer&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_transfer& x) {
  return f(caf::meta::type_name("vnet_transfer"), x.requester, x.protocol, x.port, x.new_owner);
}

/// Holds PLC's destination blacklist as IPv4 prefixes (address in host order, length).
struct vnet_blacklist {
  std::vector<std::uint32_t> addrs;
  std::vector<std::uint8_t> lengths;

  friend bool operator==(const vnet_blacklist&, const vnet_blacklist&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_blacklist& x) {
  return f(caf::meta::type_name("vnet_blacklist"), x.addrs, x.lengths);
}

/// Asks to bind a packet socket of `slice` to `device` (a name: vnet or a proxy).
struct vnet_packet_bind {
  std::uint32_t slice = 0;
  std::string device;
  /// ETH_P_* in host byte order.
  std::uint16_t ethertype = 0;
  bool promiscuous = false;

  friend bool operator==(const vnet_packet_bind&, const vnet_packet_bind&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_packet_bind& x) {
  return f(caf::meta::type_name("vnet_packet_bind"), x.slice, x.device, x.ethertype, x.promiscuous);
}

/// Asks which slice is at the other end of a loopback connection.
struct vnet_peer_query {
  std::uint8_t protocol = 0;
  std::uint32_t local_addr = 0;
  std::uint16_t local_port = 0;
  std::uint32_t peer_addr = 0;
  std::uint16_t peer_port = 0;

  friend bool operator==(const vnet_peer_query&, const vnet_peer_query&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_peer_query& x) {
  return f(caf::meta::type_name("vnet_peer_query"), x.protocol, x.local_addr, x.local_port,
           x.peer_addr, x.peer_port);
}

/// Counts one slice's traffic through vnet.
struct vnet_slice_counters {
  std::uint32_t slice = 0;
  std::uint64_t sent_packets = 0;
  std::uint64_t sent_bytes = 0;
  std::uint64_t received_packets = 0;
  std::uint64_t received_bytes = 0;
  std::uint64_t rejected_packets = 0;

  friend bool operator==(const vnet_slice_counters&, const vnet_slice_counters&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_slice_counters& x) {
  return f(caf::meta::type_name("vnet_slice_counters"), x.slice, x.sent_packets, x.sent_bytes,
           x.received_packets, x.received_bytes, x.rejected_packets);
}

/// Holds a node's vnet counters: refusals per reason and traffic per slice.
struct vnet_counters {
  /// Indexed by `pl::vnet::reason`.
  std::vector<std::uint64_t> outbound_rejects;
  std::vector<std::uint64_t> inbound_rejects;
  std::uint64_t outbound_accepted = 0;
  std::uint64_t inbound_accepted = 0;
  std::uint64_t connections = 0;
  std::uint64_t evictions = 0;
  std::uint64_t expirations = 0;
  std::vector<vnet_slice_counters> slices;

  friend bool operator==(const vnet_counters&, const vnet_counters&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vnet_counters& x) {
  return f(caf::meta::type_name("vnet_counters"), x.outbound_rejects, x.inbound_rejects,
           x.outbound_accepted, x.inbound_accepted, x.connections, x.evictions, x.expirations,
           x.slices);
}

} // namespace pl
