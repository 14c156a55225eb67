#pragma once

// PLC's side of the push link: the node registry (which node managers are
// connected, by proof of their node key) and the gateway that is all a node
// can reach of it. See actors/node_registry_actor.hpp for the protocol.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/node_registry_actor.hpp"

namespace pl {
class clock;
}

namespace pl::plc::push {

/// A node as PLC's database knows it, for checking its proof.
struct node_identity {
  std::string hostname;
  /// The node key (plnode.txt's NODE_KEY); empty: the node cannot connect.
  std::string key;
};

/// Looks a node up; nullopt when PLC has no live node of that id. Runs on the
/// registry's thread and may block (a database query).
using node_lookup = std::function<std::optional<node_identity>(std::int32_t node_id)>;

struct registry_config {
  node_lookup lookup;
  /// PLC's clock (virtual in simulations): challenge lifetimes, last contact,
  /// snapshot timestamps. Must outlive the registry.
  const pl::clock* clock = nullptr;
  /// How long a challenge may be answered.
  std::chrono::seconds challenge_lifetime{30};
  /// How long a push or revoke waits for the node manager's answer.
  std::chrono::seconds node_timeout{30};
  /// Most challenges outstanding at once; the oldest go first.
  std::size_t max_challenges = 65536;
};

/// Spawns the registry. `detached` gives it a thread of its own, which the
/// daemon wants because `lookup` blocks; tests on CAF's test coordinator pass
/// false.
node_registry_actor spawn_node_registry(caf::actor_system& sys, registry_config config,
                                        bool detached = true);

/// Spawns the actor to publish on the push endpoint: it forwards the gateway's
/// three messages to `registry` with the caller as sender and accepts nothing
/// else, so a node can never ask for another node's contacts or push to it.
push_gateway_actor spawn_push_gateway(caf::actor_system& sys, node_registry_actor registry);

} // namespace pl::plc::push
