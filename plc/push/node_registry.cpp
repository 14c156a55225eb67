#include "plc/push/node_registry.hpp"

#include <map>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/clock.hpp"
#include "actors/errors.hpp"
#include "actors/node_manager_actor.hpp"
#include "actors/push_proof.hpp"

namespace pl::plc::push {

namespace {

struct challenge {
  std::string nonce;
  std::int64_t expires = 0;
};

struct connection {
  std::string hostname;
  std::int64_t last_contact = 0;
  /// Null while the node is not connected.
  node_manager_actor handle;
};

struct registry_state {
  registry_config config;
  std::map<std::int32_t, challenge> challenges;
  std::map<std::int32_t, connection> nodes;

  std::int64_t now() const { return config.clock->now_epoch(); }

  void drop_stale_challenges() {
    const auto t = now();
    std::erase_if(challenges, [t](const auto& entry) { return entry.second.expires < t; });
    // Still too many (a flood of challenges for many ids): drop the ones that
    // expire first, which were issued first.
    while (challenges.size() >= config.max_challenges) {
      auto oldest = challenges.begin();
      for (auto i = challenges.begin(); i != challenges.end(); ++i)
        if (i->second.expires < oldest->second.expires)
          oldest = i;
      challenges.erase(oldest);
    }
  }

  /// The connected handle of `node_id`, or null.
  node_manager_actor target(std::int32_t node_id) const {
    auto i = nodes.find(node_id);
    return i == nodes.end() ? node_manager_actor{} : i->second.handle;
  }
};

using registry_pointer = node_registry_actor::stateful_pointer<registry_state>;

caf::error denied(std::string why) {
  return make_error(errc::permission_denied, std::move(why));
}

node_registry_actor::behavior_type registry_behavior(registry_pointer self,
                                                     registry_config config) {
  self->state.config = std::move(config);
  self->set_down_handler([self](const caf::down_msg& down) {
    for (auto& [node_id, node] : self->state.nodes)
      if (node.handle && node.handle.address() == down.source)
        node.handle = nullptr;
  });
  return {
      [self](challenge_atom, std::int32_t node_id) -> caf::result<std::string> {
        auto& st = self->state;
        if (!st.config.lookup(node_id))
          return denied("node " + std::to_string(node_id) + " is not registered at PLC");
        st.drop_stale_challenges();
        auto nonce = random_nonce();
        st.challenges[node_id] = {nonce, st.now() + st.config.challenge_lifetime.count()};
        return nonce;
      },
      [self](hello_atom, const node_hello& hello) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        auto pending = st.challenges.find(hello.node_id);
        if (pending == st.challenges.end() || pending->second.nonce != hello.nonce)
          return denied("no challenge outstanding for this nonce; ask for one first");
        const bool fresh = pending->second.expires >= st.now();
        st.challenges.erase(pending); // one answer per challenge, right or wrong
        if (!fresh)
          return denied("the challenge expired; ask for a new one");
        auto identity = st.config.lookup(hello.node_id);
        if (!identity || identity->key.empty())
          return denied("node " + std::to_string(hello.node_id) + " has no node key at PLC");
        if (identity->hostname != hello.hostname || !push_proof_matches(identity->key, hello))
          return denied("the proof does not match node " + std::to_string(hello.node_id) +
                        "'s key");
        auto sender = caf::actor_cast<node_manager_actor>(self->current_sender());
        if (!sender)
          return denied("a hello needs a sender to push to");
        auto& node = st.nodes[hello.node_id];
        if (node.handle && node.handle != sender)
          self->demonitor(node.handle.address());
        node.hostname = identity->hostname;
        node.last_contact = st.now();
        node.handle = sender;
        self->monitor(sender);
        return caf::ok_atom_v;
      },
      [self](status_atom, const node_status& status) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        auto i = st.nodes.find(status.node_id);
        if (i == st.nodes.end() || !i->second.handle ||
            i->second.handle.address() != caf::actor_cast<caf::actor_addr>(self->current_sender()))
          return denied("status is accepted only from node " + std::to_string(status.node_id) +
                        "'s own connection");
        i->second.last_contact = st.now();
        return caf::ok_atom_v;
      },
      [self](push_atom, sliver_snapshot& snapshot) -> caf::result<caf::ok_atom> {
        for (const auto& sliver : snapshot.slivers)
          if (sliver.node_id != snapshot.node_id)
            return make_error(errc::invalid_argument, "sliver " + sliver.name + " is for node " +
                                                          std::to_string(sliver.node_id) +
                                                          ", not node " +
                                                          std::to_string(snapshot.node_id));
        auto handle = self->state.target(snapshot.node_id);
        if (!handle)
          return make_error(errc::not_connected,
                            "node " + std::to_string(snapshot.node_id) + " is not connected");
        auto promise = self->make_response_promise<caf::ok_atom>();
        self->request(handle, self->state.config.node_timeout, snapshot_atom_v, std::move(snapshot))
            .then([promise](caf::ok_atom) mutable { promise.deliver(caf::ok_atom_v); },
                  [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
        return promise;
      },
      [self](revoke_atom, std::int32_t node_id, std::string& name) -> caf::result<caf::ok_atom> {
        auto handle = self->state.target(node_id);
        if (!handle)
          return make_error(errc::not_connected,
                            "node " + std::to_string(node_id) + " is not connected");
        auto promise = self->make_response_promise<caf::ok_atom>();
        self->request(handle, self->state.config.node_timeout, revoke_atom_v, std::move(name),
                      self->state.now())
            .then([promise](caf::ok_atom) mutable { promise.deliver(caf::ok_atom_v); },
                  [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
        return promise;
      },
      [self](caf::get_atom) {
        std::vector<node_contact> out;
        for (const auto& [node_id, node] : self->state.nodes)
          out.push_back(
              {node_id, node.hostname, node.last_contact, static_cast<bool>(node.handle)});
        return out;
      },
  };
}

push_gateway_actor::behavior_type gateway_behavior(push_gateway_actor::pointer self,
                                                   node_registry_actor registry) {
  return {
      [self, registry](challenge_atom atom, std::int32_t node_id) {
        return self->delegate(registry, atom, node_id);
      },
      [self, registry](hello_atom atom, node_hello& hello) {
        return self->delegate(registry, atom, std::move(hello));
      },
      [self, registry](status_atom atom, node_status& status) {
        return self->delegate(registry, atom, std::move(status));
      },
  };
}

} // namespace

node_registry_actor spawn_node_registry(caf::actor_system& sys, registry_config config,
                                        bool detached) {
  if (!config.lookup || config.clock == nullptr)
    throw std::invalid_argument("spawn_node_registry: a lookup and a clock are required");
  if (detached)
    return sys.spawn<caf::detached>(registry_behavior, std::move(config));
  return sys.spawn(registry_behavior, std::move(config));
}

push_gateway_actor spawn_push_gateway(caf::actor_system& sys, node_registry_actor registry) {
  return sys.spawn(gateway_behavior, std::move(registry));
}

} // namespace pl::plc::push
