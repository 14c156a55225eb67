#pragma once

// The VNET packet policy engine (seed 4.4): decides, datagram by datagram,
// which slice may send what and which slice receives what. Plain C++ with no
// clock of its own: every decision takes the current time from the caller.

#include "vnet/bind_table.hpp"
#include "vnet/conntrack.hpp"
#include "vnet/counters.hpp"
#include "vnet/packet.hpp"
#include "vnet/prefix_set.hpp"
#include "vnet/proxy.hpp"
#include "vnet/types.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace pl::vnet {

/// Says what happens to inbound datagrams that no slice owns (4.4.4).
enum class unowned_policy : std::uint8_t { deliver_to_root, drop };

/// Configures one node's engine.
struct engine_config {
  /// The node's own addresses: the only valid outbound sources.
  std::vector<ipv4_addr> local_addrs;
  /// Treats 127.0.0.0/8 as local, for loopback traffic between slices.
  bool loopback_is_local = true;
  unowned_policy unowned = unowned_policy::deliver_to_root;
  timeouts timeout;
  /// Bounds the connection table; about 48 bytes of memory per connection.
  std::size_t max_connections = 1u << 16;
  /// Keys the connection hash; give each node a different random value.
  std::uint64_t hash_seed = 0x243F6A8885A308D3ull;
};

/// Points at one datagram to decide on; the bytes are not copied.
struct packet_ref {
  std::span<const std::uint8_t> bytes;
  /// The sending slice (outbound only).
  slice_id sender = no_slice;
  direction dir = direction::outbound;
  link_kind link = link_kind::ip;
  /// The device an outbound datagram is sent through: `vnet_device` or a proxy.
  std::uint16_t device = vnet_device;
};

/// Decides on packets for one node and keeps its binds, connections,
/// blacklist, proxy devices and counters.
///
/// Outbound (4.4.2, 4.4.3, 4.4.5), the first failing check decides: well-formed
/// IP header, not a fragment, trackable protocol, well-formed transport header,
/// not an ICMP error, local source, destination not blacklisted, source port
/// (ICMP identifier) not bound by another slice. An accepted datagram makes
/// its sender the owner of the connection (lazy binding: the last sender wins
/// on an unbound port).
///
/// Inbound (4.4.4): a bound port's slice receives all datagrams for that port;
/// otherwise the owner of a live connection receives them; ICMP errors go to
/// the owner of the connection they quote; addresses of a held proxy device
/// go to its holder; anything else goes to the root context or is dropped,
/// per `engine_config::unowned`.
class engine {
public:
  /// Makes an engine with empty bind, blacklist and connection tables.
  explicit engine(engine_config cfg);

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Decides on one datagram at time `now`.
  verdict decide(const packet_ref& p, time_ns now);

  /// Decides on `in[i]` into `out[i]`, as `decide` would one after another.
  ///
  /// Parses and hashes a group of packets first and prefetches their table
  /// slots, so that the memory latency of one lookup overlaps the others.
  void decide_batch(std::span<const packet_ref> in, std::span<verdict> out, time_ns now);

  // -- binds (4.4.2) ----------------------------------------------------------

  /// Records that a socket of `s` bound (`p`, `port`).
  error bind(slice_id s, protocol p, std::uint16_t port) { return binds_.bind(s, p, port); }

  /// Records that a socket of `s` bound to (`p`, `port`) went away.
  error unbind(slice_id s, protocol p, std::uint16_t port) { return binds_.unbind(s, p, port); }

  /// Hands the binding of (`p`, `port`) to `new_owner` (SO_SETXID, root only).
  error transfer(slice_id requester, protocol p, std::uint16_t port, slice_id new_owner) {
    return binds_.transfer(requester, p, port, new_owner);
  }

  /// Returns the slice that bound (`p`, `port`), or `no_slice`.
  slice_id bound_slice(protocol p, std::uint16_t port) const noexcept {
    return binds_.owner(static_cast<std::uint8_t>(p), port);
  }

  // -- blacklist (4.4.5) ------------------------------------------------------

  /// Replaces PLC's blacklist; on a bad prefix changes nothing.
  error set_blacklist(std::span<const prefix> prefixes) { return blacklist_.assign(prefixes); }

  /// Adds one prefix to the blacklist.
  error add_blacklist(prefix p) { return blacklist_.add(p); }

  /// Removes one prefix from the blacklist.
  error remove_blacklist(prefix p) { return blacklist_.remove(p); }

  /// Returns the blacklist.
  const prefix_set& blacklist() const noexcept { return blacklist_; }

  // -- local addresses --------------------------------------------------------

  /// Replaces the node's addresses (for example after DHCP renumbering).
  void set_local_addrs(std::vector<ipv4_addr> addrs) { cfg_.local_addrs = std::move(addrs); }

  /// Tells whether `a` is an address of this node.
  bool is_local(ipv4_addr a) const noexcept {
    if (cfg_.loopback_is_local && (a >> 24) == 127)
      return true;
    for (auto l : cfg_.local_addrs)
      if (l == a)
        return true;
    return false;
  }

  // -- proxy devices and packet sockets (4.4.5, 4.4.7) ------------------------

  /// Declares a proxy device for the unused addresses in `range`.
  device_result add_proxy_device(std::string_view name, prefix range) {
    return proxies_.add(name, range);
  }

  /// Binds a packet socket of `s` to interface `name`; see `proxy_table::bind`.
  device_result bind_packet_socket(slice_id s, std::string_view name, std::uint16_t ethertype,
                                   bool promiscuous = false) {
    return proxies_.bind(s, name, ethertype, promiscuous);
  }

  /// Releases a packet socket of `s` bound to `device`.
  error release_packet_socket(slice_id s, std::uint16_t device) {
    return proxies_.release(s, device);
  }

  /// Answers a request to set IFF_PROMISC: always refused when turning it on.
  error set_promiscuous(std::uint16_t device, bool on) const {
    return proxies_.set_promiscuous(device, on);
  }

  /// Returns the proxy devices.
  const proxy_table& proxies() const noexcept { return proxies_; }

  // -- extensions (4.4.6) -----------------------------------------------------

  /// Returns the slice at the other end of a loopback connection.
  ///
  /// The caller's end is (`local_addr`, `local_port`); the peer's end must be
  /// a local address. The peer is the slice that bound the peer's port, else
  /// the owner of the connection as the peer sends it; this is the slice id
  /// SO_PEERCRED reports. Returns nothing if neither is known.
  std::optional<slice_id> peer_slice(protocol p, ipv4_addr local_addr, std::uint16_t local_port,
                                     ipv4_addr peer_addr, std::uint16_t peer_port,
                                     time_ns now) const;

  /// Returns the live connection `k`, if tracked.
  const conn_entry* connection(const flow_key& k, time_ns now) const {
    return table_.find(k, table_.hash(k), now);
  }

  // -- maintenance and counters -----------------------------------------------

  /// Reclaims expired connections among the next `budget` slots.
  std::size_t expire(time_ns now, std::size_t budget) { return table_.expire(now, budget); }

  /// Replaces the per-protocol timeouts.
  void set_timeouts(const timeouts& t) {
    cfg_.timeout = t;
    table_.set_timeouts(t);
  }

  /// Replaces what happens to unowned inbound datagrams.
  void set_unowned_policy(unowned_policy u) noexcept { cfg_.unowned = u; }

  /// Returns the engine-wide counters.
  engine_counters counters() const;

  /// Returns one slice's counters.
  slice_counters counters_of(slice_id s) const { return slices_.get(s); }

  /// Returns the counters of every slice that had traffic.
  std::vector<std::pair<slice_id, slice_counters>> all_slice_counters() const;

  /// Returns the number of occupied connection slots.
  std::size_t connection_count() const noexcept { return table_.size(); }

  /// Returns the memory held by the connection and bind tables.
  std::size_t memory_bytes() const noexcept {
    return table_.memory_bytes() + binds_.memory_bytes();
  }

  /// Returns the connection table (for tests and benchmarks).
  const conn_table& table() const noexcept { return table_; }

  /// Returns the configuration in force.
  const engine_config& config() const noexcept { return cfg_; }

private:
  // A packet between parsing and deciding, so a batch can prefetch.
  struct prepared {
    parsed_packet pkt;
    flow_key key;
    std::uint64_t hash;
    bool tracked;
  };

  void prepare(const packet_ref& p, prepared& x) const noexcept;
  verdict decide_prepared(const packet_ref& p, prepared& x, time_ns now);
  verdict outbound(const packet_ref& p, prepared& x, time_ns now);
  verdict outbound_proxy(const packet_ref& p, const parsed_packet& k);
  verdict inbound(prepared& x, time_ns now);
  verdict reject_out(slice_id sender, reason r);
  verdict reject_in(reason r);
  verdict deliver(slice_id s, const parsed_packet& k);
  verdict deliver_unowned(const parsed_packet& k);

  engine_config cfg_;
  bind_table binds_;
  conn_table table_;
  prefix_set blacklist_;
  proxy_table proxies_;
  slice_counter_table slices_;
  engine_counters counters_;
};

} // namespace pl::vnet
