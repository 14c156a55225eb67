#include "vnet/engine.hpp"

#include <algorithm>

namespace pl::vnet {

namespace {

constexpr std::uint8_t icmp_number = 1;
constexpr std::uint8_t tcp_number = 6;

// Packets decided together in `decide_batch`: enough to cover DRAM latency
// with prefetches in flight, few enough to stay in L1 while waiting.
constexpr std::size_t batch_group = 16;

} // namespace

engine::engine(engine_config cfg)
    : cfg_(std::move(cfg))
    , table_(cfg_.max_connections, cfg_.timeout, binds_, cfg_.hash_seed) {}

void engine::prepare(const packet_ref& p, prepared& x) const noexcept {
  x.pkt = parse(p.bytes, p.link);
  x.tracked = false;
  const parsed_packet& k = x.pkt;
  if (k.status == parse_status::ok) {
    if (p.dir == direction::outbound || k.proto == icmp_number)
      // ICMP carries the identifier in `sport` whichever way it travels.
      x.key = flow_key{p.dir == direction::outbound ? k.src : k.dst,
                       p.dir == direction::outbound ? k.dst : k.src, k.sport, k.dport, k.proto};
    else
      x.key = flow_key{k.dst, k.src, k.dport, k.sport, k.proto};
    x.tracked = true;
  } else if (k.status == parse_status::icmp_error && k.has_inner && p.dir == direction::inbound) {
    // The quoted datagram is one this node sent: its source is our end.
    x.key = flow_key{k.inner.src, k.inner.dst, k.inner.sport, k.inner.dport, k.inner.proto};
    x.tracked = true;
  }
  if (x.tracked) {
    x.hash = table_.hash(x.key);
    table_.prefetch(x.hash);
    if (const auto* b = binds_.slot(x.key.proto, x.key.local_port))
      __builtin_prefetch(b, 0, 3);
  }
}

verdict engine::decide(const packet_ref& p, time_ns now) {
  prepared x;
  prepare(p, x);
  return decide_prepared(p, x, now);
}

void engine::decide_batch(std::span<const packet_ref> in, std::span<verdict> out, time_ns now) {
  const std::size_t n = std::min(in.size(), out.size());
  prepared group[batch_group];
  for (std::size_t base = 0; base < n; base += batch_group) {
    const std::size_t m = std::min(batch_group, n - base);
    for (std::size_t i = 0; i < m; ++i)
      prepare(in[base + i], group[i]);
    // Deciding in order keeps the result identical to calling `decide` in a
    // loop: prefetching is only a hint and reads no state.
    for (std::size_t i = 0; i < m; ++i)
      out[base + i] = decide_prepared(in[base + i], group[i], now);
  }
}

verdict engine::decide_prepared(const packet_ref& p, prepared& x, time_ns now) {
  return p.dir == direction::outbound ? outbound(p, x, now) : inbound(x, now);
}

verdict engine::reject_out(slice_id sender, reason r) {
  ++counters_.outbound_rejects[static_cast<std::size_t>(r)];
  ++slices_.at(sender).rejected_packets;
  return reject(r);
}

verdict engine::reject_in(reason r) {
  ++counters_.inbound_rejects[static_cast<std::size_t>(r)];
  return reject(r);
}

verdict engine::deliver(slice_id s, const parsed_packet& k) {
  ++counters_.inbound_accepted;
  auto& c = slices_.at(s);
  ++c.received_packets;
  c.received_bytes += k.ip_length;
  return accept(s);
}

verdict engine::deliver_unowned(const parsed_packet& k) {
  if (cfg_.unowned == unowned_policy::drop)
    return reject_in(reason::unowned);
  return deliver(root_slice, k);
}

verdict engine::outbound(const packet_ref& p, prepared& x, time_ns now) {
  const parsed_packet& k = x.pkt;
  const slice_id sender = p.sender;
  if (!k.ip_ok)
    return reject_out(sender, reason::malformed);
  if (p.device != vnet_device)
    return outbound_proxy(p, k);
  switch (k.status) {
  case parse_status::ok:
    break;
  case parse_status::malformed:
    return reject_out(sender, reason::malformed);
  case parse_status::fragment:
    return reject_out(sender, reason::fragment);
  case parse_status::not_trackable:
  case parse_status::icmp_other:
    return reject_out(sender, reason::not_trackable);
  case parse_status::icmp_error:
    return reject_out(sender, reason::icmp_error);
  }
  if (!is_local(k.src))
    return reject_out(sender, reason::source_not_local);
  if (blacklist_.contains(k.dst))
    return reject_out(sender, reason::blacklisted);
  const slice_id bound = binds_.owner(x.key.proto, x.key.local_port);
  if (bound != no_slice && bound != sender)
    return reject_out(sender, reason::port_bound);
  auto [e, created] = table_.upsert(x.key, x.hash, now);
  if (created)
    ++counters_.connections_created;
  // Lazy binding (4.4.3): the last slice to send on an unbound port owns the
  // connection; on a bound port the sender is the binder anyway.
  e->owner = sender;
  e->last_seen = now;
  std::uint8_t flags = e->flags | conn_referenced;
  if (k.proto == tcp_number) {
    if ((k.tcp_flags & (tcp_syn | tcp_ack)) == tcp_syn) // a new connection on an old tuple
      flags &= static_cast<std::uint8_t>(~(conn_fin_out | conn_fin_in | conn_rst));
    if (k.tcp_flags & tcp_fin)
      flags |= conn_fin_out;
    if (k.tcp_flags & tcp_rst)
      flags |= conn_rst;
  }
  e->flags = flags;
  ++counters_.outbound_accepted;
  auto& c = slices_.at(sender);
  ++c.sent_packets;
  c.sent_bytes += k.ip_length;
  return accept(sender);
}

verdict engine::outbound_proxy(const packet_ref& p, const parsed_packet& k) {
  // A held proxy device behaves like the slice's own interface on an empty
  // subnet (4.4.7): no port rules and any IP protocol, but still well-formed,
  // unfragmented, from its own addresses and not to blacklisted ones.
  const proxy_device* d = proxies_.get(p.device);
  if (d == nullptr || d->holder != p.sender)
    return reject_out(p.sender, reason::proxy_not_held);
  if (k.status == parse_status::malformed)
    return reject_out(p.sender, reason::malformed);
  if (k.status == parse_status::fragment)
    return reject_out(p.sender, reason::fragment);
  if (!d->range.contains(k.src))
    return reject_out(p.sender, reason::source_not_local);
  if (blacklist_.contains(k.dst))
    return reject_out(p.sender, reason::blacklisted);
  ++counters_.outbound_accepted;
  auto& c = slices_.at(p.sender);
  ++c.sent_packets;
  c.sent_bytes += k.ip_length;
  return accept(p.sender);
}

verdict engine::inbound(prepared& x, time_ns now) {
  const parsed_packet& k = x.pkt;
  if (!k.ip_ok)
    return reject_in(reason::malformed);
  if (!is_local(k.dst)) {
    const proxy_device* d = proxies_.find(k.dst);
    if (d == nullptr)
      return reject_in(reason::destination_not_local);
    // An unheld proxy device is nobody's; the host has no use for it either.
    return d->holder == no_slice ? reject_in(reason::unowned) : deliver(d->holder, k);
  }
  switch (k.status) {
  case parse_status::ok:
    break;
  case parse_status::malformed:
    return reject_in(reason::malformed);
  case parse_status::fragment:
    // The datapath reassembles before asking; a fragment here has no ports.
    return reject_in(reason::fragment);
  case parse_status::not_trackable:
  case parse_status::icmp_other:
    return deliver_unowned(k);
  case parse_status::icmp_error: {
    if (!k.has_inner)
      return reject_in(reason::malformed);
    // Errors go where the quoted datagram came from (traceroute's replies),
    // without keeping that connection alive.
    const slice_id bound = binds_.owner(x.key.proto, x.key.local_port);
    if (bound != no_slice)
      return deliver(bound, k);
    const conn_entry* e = table_.find(x.key, x.hash, now);
    return e != nullptr ? deliver(e->owner, k) : deliver_unowned(k);
  }
  }
  if (k.proto == icmp_number && is_icmp_request(k.icmp_type))
    return deliver_unowned(k); // requests from outside are the host's to answer
  conn_entry* e = table_.find(x.key, x.hash, now);
  if (e != nullptr) {
    e->last_seen = now;
    std::uint8_t flags = e->flags | conn_referenced;
    if (k.proto == tcp_number) {
      if (k.tcp_flags & tcp_fin)
        flags |= conn_fin_in;
      if (k.tcp_flags & tcp_rst)
        flags |= conn_rst;
    }
    e->flags = flags;
  }
  const slice_id bound = binds_.owner(x.key.proto, x.key.local_port);
  if (bound != no_slice)
    return deliver(bound, k);
  return e != nullptr ? deliver(e->owner, k) : deliver_unowned(k);
}

std::optional<slice_id> engine::peer_slice(protocol p, ipv4_addr local_addr,
                                           std::uint16_t local_port, ipv4_addr peer_addr,
                                           std::uint16_t peer_port, time_ns now) const {
  if (!is_local(peer_addr) || !is_local(local_addr))
    return std::nullopt;
  const auto proto = static_cast<std::uint8_t>(p);
  const slice_id bound = binds_.owner(proto, peer_port);
  if (bound != no_slice)
    return bound;
  const flow_key k{peer_addr, local_addr, peer_port,
                   p == protocol::icmp ? std::uint16_t{0} : local_port, proto};
  const conn_entry* e = table_.find(k, table_.hash(k), now);
  if (e == nullptr || e->owner == no_slice)
    return std::nullopt;
  return e->owner;
}

engine_counters engine::counters() const {
  engine_counters c = counters_;
  c.evictions = table_.evictions();
  c.bound_evictions = table_.bound_evictions();
  c.expirations = table_.expirations();
  return c;
}

std::vector<std::pair<slice_id, slice_counters>> engine::all_slice_counters() const {
  std::vector<std::pair<slice_id, slice_counters>> out;
  slices_.for_each([&](slice_id s, const slice_counters& c) { out.emplace_back(s, c); });
  return out;
}

} // namespace pl::vnet
