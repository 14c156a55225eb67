#pragma once

// A stand-in node manager for push tests: it proves a node key to PLC's push
// gateway when told to connect, and records every snapshot and revocation PLC
// pushes to it. The real node manager lives in node/.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/clock.hpp"
#include "actors/errors.hpp"
#include "actors/node_manager_actor.hpp"
#include "actors/node_registry_actor.hpp"
#include "actors/push_proof.hpp"

namespace pl::test {

/// What a recording node saw; shared with the test through a pointer. With a
/// threaded actor system, read it under `mutex` (or through `locked`).
struct node_log {
  mutable std::mutex mutex;
  std::vector<sliver_snapshot> snapshots;
  std::vector<std::string> revoked;
  /// Set once a connect finished: empty on success, else the refusal.
  std::optional<caf::error> connect_result;

  /// Sliver names in arrival order, one per pushed sliver.
  std::vector<std::string> pushed_names() const {
    std::vector<std::string> out;
    for (const auto& s : snapshots)
      for (const auto& sliver : s.slivers)
        out.push_back(sliver.name);
    return out;
  }

  /// Runs `f(*this)` under the mutex and returns its result.
  template <class F>
  auto locked(F f) const {
    std::lock_guard guard{mutex};
    return f(*this);
  }
};

struct node_credentials {
  std::int32_t node_id = 0;
  std::string hostname;
  std::string key;
};

/// The recorder also reacts to `connect`: challenge, then hello, as itself.
using recording_node_actor = node_manager_actor::extend<caf::reacts_to<caf::connect_atom>>;

struct recording_node_state {
  std::shared_ptr<node_log> log;
  push_gateway_actor gateway;
  node_credentials who;
  const pl::clock* clock = nullptr;

  void connected(caf::error result) {
    std::lock_guard guard{log->mutex};
    log->connect_result = std::move(result);
  }
};

inline recording_node_actor::behavior_type
recording_node(recording_node_actor::stateful_pointer<recording_node_state> self,
               std::shared_ptr<node_log> log, push_gateway_actor gateway, node_credentials who,
               const pl::clock* clock) {
  self->state = {std::move(log), std::move(gateway), std::move(who), clock};
  auto unsupported = [] { return make_error(errc::unsupported, "recording node"); };
  return {
      [self](snapshot_atom, sliver_snapshot& s) {
        std::lock_guard guard{self->state.log->mutex};
        self->state.log->snapshots.push_back(std::move(s));
        return caf::ok_atom_v;
      },
      [self](revoke_atom, std::string& name, std::int64_t) {
        std::lock_guard guard{self->state.log->mutex};
        self->state.log->revoked.push_back(std::move(name));
        return caf::ok_atom_v;
      },
      [=](status_atom) -> caf::result<node_status> { return unsupported(); },
      [=](redeem_atom, ticket&) -> caf::result<caf::ok_atom> { return unsupported(); },
      [=](create_atom, std::string&, std::string&) -> caf::result<caf::ok_atom> {
        return unsupported();
      },
      [=](destroy_atom, std::string&, std::string&) -> caf::result<caf::ok_atom> {
        return unsupported();
      },
      [=](start_atom, std::string&, std::string&) -> caf::result<caf::ok_atom> {
        return unsupported();
      },
      [=](stop_atom, std::string&, std::string&) -> caf::result<caf::ok_atom> {
        return unsupported();
      },
      [=](rspec_atom, std::string&, std::string&) -> caf::result<rspec> { return unsupported(); },
      [=](effective_atom, std::string&, std::string&) -> caf::result<rspec> {
        return unsupported();
      },
      [=](loans_atom, std::string&, std::string&) -> caf::result<std::vector<loan>> {
        return unsupported();
      },
      [=](loans_atom, std::string&, std::string&, std::vector<loan>&) -> caf::result<caf::ok_atom> {
        return unsupported();
      },
      [=](caf::get_atom) -> caf::result<std::vector<sliver_spec>> { return unsupported(); },
      [=](caf::get_atom, std::string&) -> caf::result<sliver_spec> { return unsupported(); },
      [self](caf::connect_atom) {
        auto& st = self->state;
        self->request(st.gateway, caf::infinite, challenge_atom_v, st.who.node_id)
            .then(
                [self](std::string& nonce) {
                  auto& st = self->state;
                  node_hello hello{
                      st.who.node_id, st.who.hostname, st.clock->now_epoch(), std::move(nonce), {}};
                  hello.proof = push_proof(st.who.key, hello);
                  self->request(st.gateway, caf::infinite, hello_atom_v, std::move(hello))
                      .then([self](caf::ok_atom) { self->state.connected(caf::error{}); },
                            [self](caf::error& err) { self->state.connected(std::move(err)); });
                },
                [self](caf::error& err) { self->state.connected(std::move(err)); });
      },
  };
}

} // namespace pl::test
