#include "plc/push/ticket_office.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/clock.hpp"

namespace pl::plc::push {

namespace {

// -- ticket actor -------------------------------------------------------------

struct ticket_state {
  ticket_actor_config config;
  ticket record;
  bool revoked = false;

  bool expired() const { return config.clock->now_epoch() >= record.expires; }
};

using ticket_pointer = ticket_actor::stateful_pointer<ticket_state>;

void arm_expiry(ticket_pointer self) {
  const auto left = self->state.record.expires - self->state.config.clock->now_epoch();
  self->delayed_send(self, std::chrono::seconds(std::max<std::int64_t>(left, 0)), expire_atom_v);
}

// Asks the registry to remove the slice's sliver from `node_id`; a node that
// is not connected catches up with its next GetSlivers, so failures are
// dropped.
void revoke_on(ticket_pointer self, std::int32_t node_id) {
  self->request(self->state.config.registry, caf::infinite, revoke_atom_v, node_id,
                self->state.record.slice_name)
      .then([](caf::ok_atom) {}, [](const caf::error&) {});
}

ticket_actor::behavior_type ticket_behavior(ticket_pointer self, ticket_actor_config config,
                                            ticket record) {
  self->state.config = std::move(config);
  self->state.record = std::move(record);
  arm_expiry(self);
  return {
      [self](caf::get_atom) { return self->state.record; },
      [self](valid_atom) { return !self->state.revoked && !self->state.expired(); },
      [self](revoke_atom) {
        auto& st = self->state;
        if (st.revoked)
          return caf::ok_atom_v;
        st.revoked = true;
        if (!st.record.node_ids.empty()) {
          for (auto node_id : st.record.node_ids)
            revoke_on(self, node_id);
        } else {
          // Redeemable anywhere: every node connected now may hold it.
          self->request(st.config.registry, caf::infinite, caf::get_atom_v)
              .then(
                  [self](const std::vector<node_contact>& nodes) {
                    for (const auto& node : nodes)
                      if (node.connected)
                        revoke_on(self, node.node_id);
                  },
                  [](const caf::error&) {});
        }
        return caf::ok_atom_v;
      },
      [self](expire_atom) {
        if (self->state.expired())
          self->quit();
        else
          arm_expiry(self); // a clock that moved back; wait again
      },
  };
}

// -- office -------------------------------------------------------------------

struct office_state {
  ticket_office_config config;
  /// Outstanding (not revoked) ticket actors by slice id.
  std::map<std::int32_t, std::vector<ticket_actor>> by_slice;
};

using office_pointer = ticket_office_actor::stateful_pointer<office_state>;

/// Revokes every outstanding ticket of `slice_id`; `done` runs once each
/// ticket actor has acknowledged (or is gone).
void revoke_slice(office_pointer self, std::int32_t slice_id, std::function<void()> done = {}) {
  auto i = self->state.by_slice.find(slice_id);
  if (i == self->state.by_slice.end()) {
    if (done)
      done();
    return;
  }
  auto actors = std::move(i->second);
  self->state.by_slice.erase(i);
  auto left = std::make_shared<std::size_t>(actors.size());
  auto finish = [left, done] {
    if (--*left == 0 && done)
      done();
  };
  for (auto& actor : actors)
    self->request(actor, caf::infinite, revoke_atom_v)
        .then([finish](caf::ok_atom) { finish(); }, [finish](const caf::error&) { finish(); });
}

void check_slice(office_pointer self, std::int32_t slice_id) {
  if (!self->state.by_slice.contains(slice_id))
    return;
  if (!self->state.config.slice_live(slice_id))
    revoke_slice(self, slice_id);
}

ticket_office_actor::behavior_type office_behavior(office_pointer self,
                                                   ticket_office_config config) {
  self->state.config = std::move(config);
  self->set_down_handler([self](const caf::down_msg& down) {
    for (auto i = self->state.by_slice.begin(); i != self->state.by_slice.end();) {
      std::erase_if(i->second, [&](const ticket_actor& a) { return a.address() == down.source; });
      i = i->second.empty() ? self->state.by_slice.erase(i) : std::next(i);
    }
  });
  return {
      [self](caf::put_atom, ticket& record) {
        auto& st = self->state;
        const auto slice_id = record.sliver.slice_id;
        auto actor = spawn_ticket_actor(self->system(), {st.config.registry, st.config.clock},
                                        std::move(record));
        self->monitor(actor); // it quits by itself when the ticket expires
        self->link_to(actor); // and goes down with the office
        st.by_slice[slice_id].push_back(actor);
        // The slice may have gone between the ticket's reading and now; its
        // notification may already have been handled.
        check_slice(self, slice_id);
      },
      [self](caf::update_atom, std::int32_t slice_id) { check_slice(self, slice_id); },
      [self](caf::reset_atom) {
        std::vector<std::int32_t> slices;
        for (const auto& [slice_id, actors] : self->state.by_slice)
          slices.push_back(slice_id);
        for (auto slice_id : slices)
          check_slice(self, slice_id);
      },
      [self](caf::delete_atom, std::int32_t slice_id) -> caf::result<caf::ok_atom> {
        auto promise = self->make_response_promise<caf::ok_atom>();
        revoke_slice(self, slice_id, [promise]() mutable { promise.deliver(caf::ok_atom_v); });
        return promise;
      },
      [self](caf::get_atom, std::int32_t slice_id) {
        std::vector<caf::actor> out;
        if (auto i = self->state.by_slice.find(slice_id); i != self->state.by_slice.end())
          for (const auto& actor : i->second)
            out.push_back(caf::actor_cast<caf::actor>(actor));
        return out;
      },
  };
}

} // namespace

ticket_actor spawn_ticket_actor(caf::actor_system& sys, ticket_actor_config config, ticket record) {
  if (config.clock == nullptr)
    throw std::invalid_argument("spawn_ticket_actor: a clock is required");
  return sys.spawn(ticket_behavior, std::move(config), std::move(record));
}

ticket_office_actor spawn_ticket_office(caf::actor_system& sys, ticket_office_config config,
                                        bool detached) {
  if (config.clock == nullptr || !config.slice_live)
    throw std::invalid_argument("spawn_ticket_office: a clock and slice_live are required");
  if (detached)
    return sys.spawn<caf::detached>(office_behavior, std::move(config));
  return sys.spawn(office_behavior, std::move(config));
}

} // namespace pl::plc::push
