#pragma once

#include <cstddef>

#include <caf/fwd.hpp>

namespace pl {

/// Chooses how `configure_runtime` sets up an actor system.
struct runtime_options {
  /// Loads CAF's middleman (caf_io) for remote actors over the network.
  bool middleman = false;
  /// Sets `scheduler.max-threads`; 0 means `default_max_threads()`.
  std::size_t max_threads = 0;
  /// Selects CAF's deterministic test coordinator (`scheduler.policy` =
  /// "testing"): one thread, virtual time driven by `run()` and
  /// `advance_time()`. Meant for tests and the simulator, without middleman.
  bool virtual_time = false;
};

/// Returns the hardware concurrency, at least 1.
std::size_t default_max_threads();

/// Prepares `cfg` for any actor system of the project: registers the type-ID
/// block `caf::id_block::planetlab`, registers the `pl` error category (so
/// `sys.render(err)` prints e.g. "pl: unknown_resource (cpu_sharez)"), sets
/// `scheduler.max-threads` explicitly (CAF 0.17 would use at least 4) and
/// loads the middleman when asked. Call it before constructing the system.
void configure_runtime(caf::actor_system_config& cfg, const runtime_options& opts = {});

} // namespace pl
