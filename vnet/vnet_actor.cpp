#include "vnet/vnet_actor.hpp"

#include <caf/actor_clock.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>

namespace pl::vnet {

namespace {

// Expired slots reclaimed per batch: spreads the sweep over the traffic
// instead of a timer, so an idle node does no work at all.
constexpr std::size_t expire_budget_per_batch = 256;

time_ns now_of(caf::actor_clock& clock) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock.now().time_since_epoch())
      .count();
}

std::optional<protocol> protocol_of(std::uint8_t number) {
  if (!is_trackable(number))
    return std::nullopt;
  return static_cast<protocol>(number);
}

caf::result<caf::ok_atom> ok_or(error e) {
  if (e != error::none)
    return caf::make_error(e);
  return caf::ok_atom::value;
}

} // namespace

pl::vnet_actor::behavior_type vnet_actor_impl(pl::vnet_actor::stateful_pointer<vnet_state> self,
                                              engine_config cfg, std::vector<proxy_spec> proxies) {
  self->state.eng.emplace(std::move(cfg));
  for (const auto& p : proxies)
    if (self->state.eng->add_proxy_device(p.name, p.range).err != error::none)
      // A node configuration error: refuse to run with half the devices.
      self->quit(caf::make_error(error::bad_prefix));
  return {
      [self](pl::vnet_batch& batch) {
        auto& e = *self->state.eng;
        const time_ns now = now_of(self->clock());
        std::vector<packet_ref> refs;
        refs.reserve(batch.packets.size());
        for (const auto& p : batch.packets)
          refs.push_back(packet_ref{p.bytes, p.sender,
                                    p.direction ? direction::inbound : direction::outbound,
                                    p.link ? link_kind::ethernet : link_kind::ip, p.device});
        std::vector<verdict> out(refs.size());
        e.decide_batch(refs, out, now);
        e.expire(now, expire_budget_per_batch);
        pl::vnet_verdicts reply;
        reply.verdicts.reserve(out.size());
        for (const auto& v : out)
          reply.verdicts.push_back(pl::vnet_verdict{v.slice, static_cast<std::uint8_t>(v.why)});
        return reply;
      },
      [self](pl::bind_atom, const pl::vnet_bind& b) -> caf::result<caf::ok_atom> {
        auto p = protocol_of(b.protocol);
        return p ? ok_or(self->state.eng->bind(b.slice, *p, b.port))
                 : caf::make_error(error::bad_protocol);
      },
      [self](pl::unbind_atom, const pl::vnet_bind& b) -> caf::result<caf::ok_atom> {
        auto p = protocol_of(b.protocol);
        return p ? ok_or(self->state.eng->unbind(b.slice, *p, b.port))
                 : caf::make_error(error::bad_protocol);
      },
      [self](pl::transfer_atom, const pl::vnet_transfer& t) -> caf::result<caf::ok_atom> {
        auto p = protocol_of(t.protocol);
        return p ? ok_or(self->state.eng->transfer(t.requester, *p, t.port, t.new_owner))
                 : caf::make_error(error::bad_protocol);
      },
      [self](pl::blacklist_atom, const pl::vnet_blacklist& b) -> caf::result<caf::ok_atom> {
        if (b.addrs.size() != b.lengths.size())
          return caf::make_error(error::bad_prefix);
        std::vector<prefix> ps;
        for (std::size_t i = 0; i < b.addrs.size(); ++i)
          ps.push_back(prefix{b.addrs[i], b.lengths[i]});
        return ok_or(self->state.eng->set_blacklist(ps));
      },
      [self](pl::pkt_bind_atom, const pl::vnet_packet_bind& b) -> caf::result<std::uint16_t> {
        auto r = self->state.eng->bind_packet_socket(b.slice, b.device, b.ethertype, b.promiscuous);
        if (r.err != error::none)
          return caf::make_error(r.err);
        return r.device;
      },
      [self](pl::pkt_free_atom, std::uint32_t slice,
             std::uint16_t device) -> caf::result<caf::ok_atom> {
        return ok_or(self->state.eng->release_packet_socket(slice, device));
      },
      [self](pl::peer_atom, const pl::vnet_peer_query& q) -> caf::result<std::uint32_t> {
        auto p = protocol_of(q.protocol);
        if (!p)
          return caf::make_error(error::bad_protocol);
        auto s = self->state.eng->peer_slice(*p, q.local_addr, q.local_port, q.peer_addr,
                                             q.peer_port, now_of(self->clock()));
        return s.value_or(no_slice);
      },
      [self](caf::get_atom) {
        const auto& e = *self->state.eng;
        const auto k = e.counters();
        pl::vnet_counters c;
        c.outbound_rejects.assign(k.outbound_rejects.begin(), k.outbound_rejects.end());
        c.inbound_rejects.assign(k.inbound_rejects.begin(), k.inbound_rejects.end());
        c.outbound_accepted = k.outbound_accepted;
        c.inbound_accepted = k.inbound_accepted;
        c.connections = e.connection_count();
        c.evictions = k.evictions;
        c.expirations = k.expirations;
        for (const auto& [s, x] : e.all_slice_counters())
          c.slices.push_back(pl::vnet_slice_counters{s, x.sent_packets, x.sent_bytes,
                                                     x.received_packets, x.received_bytes,
                                                     x.rejected_packets});
        return c;
      },
  };
}

} // namespace pl::vnet
