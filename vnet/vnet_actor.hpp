#pragma once

// The `vnet` actor: owns one node's policy engine and translates messages
// into calls on it. All logic is in `pl::vnet::engine`.

#include "actors/vnet_actor.hpp"
#include "vnet/engine.hpp"

#include <caf/error.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

// Refusals of control messages travel as caf::error of category "vnet".
CAF_ERROR_CODE_ENUM(pl::vnet::error, "vnet")

namespace pl::vnet {

/// Describes a proxy device to declare when the actor starts.
struct proxy_spec {
  std::string name;
  prefix range;
};

/// Holds the engine of one node.
struct vnet_state {
  static inline const char* name = "vnet";

  /// Builds the engine; the actor's behaviour fills the proxy devices.
  std::optional<engine> eng;
};

/// Spawns as the `vnet` actor for one node.
///
/// `cfg` configures the engine; `proxies` lists the node's proxy devices
/// (device n is `proxies[n - 1]`). Time for connection expiry comes from the
/// actor's clock, so the test coordinator drives it virtually.
pl::vnet_actor::behavior_type vnet_actor_impl(pl::vnet_actor::stateful_pointer<vnet_state> self,
                                              engine_config cfg, std::vector<proxy_spec> proxies);

} // namespace pl::vnet
