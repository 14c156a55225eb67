#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "actors/clock.hpp"
#include "actors/node_manager_actor.hpp"
#include "actors/node_registry_actor.hpp"
#include "actors/resource_controller_actor.hpp"
#include "node/byte_cap.hpp"
#include "node/conf_file_installer.hpp"
#include "node/desired_state.hpp"
#include "node/metrics.hpp"
#include "node/reconciler.hpp"
#include "node/sliver.hpp"

// The node manager actor (issue #6 points 1 and 4): one per node. It owns the
// record set and the reconciler; every delivery (GetSlivers poll, push from
// PLC, redeemed ticket, local API call, loan change, expiry) goes through
// `reconciler` and the resulting actions are carried out, in order, by
// sliver actors, which drive the container driver and the resource
// controllers. See node/README.md.

namespace pl::node {

/// Fetches GetSlivers from PLC (blocking); the parsed state or why not.
using fetch_fn = std::function<caf::expected<desired_state>()>;

/// Configures the GetSlivers poller.
struct poll_options {
  /// Empty: no polling (push only).
  fetch_fn fetch;
  /// Poll every `interval` plus a random 0..`jitter` (node manager 1.5: 600 s
  /// plus randrange(0, 301)). Zero: only at the start and after each push
  /// connect (pushes carry changes only), retried with backoff while failing.
  caf::timespan interval = std::chrono::seconds(600);
  caf::timespan jitter = std::chrono::seconds(300);
  /// After a failed poll: retry after `backoff_min`, doubling up to
  /// `backoff_max` (never later than `interval`).
  caf::timespan backoff_min = std::chrono::seconds(30);
  caf::timespan backoff_max = std::chrono::seconds(600);
  /// Runs `fetch` on a thread of its own (a detached actor), so a slow PLC
  /// never holds up the node manager; false calls it inside the actor (for
  /// CAF's test coordinator, with a fetch that does not block).
  bool detached = true;
  /// Seeds the jitter (0: from std::random_device).
  std::uint64_t seed = 0;
};

/// Configures the push link to PLC's gateway (actors/node_registry_actor.hpp).
struct push_options {
  bool enabled = false;
  /// The gateway itself (tests, the simulator); else connected through the
  /// middleman at `host`:`port` (with `tls`, through CAF's OpenSSL module,
  /// which the actor system must have loaded).
  std::optional<push_gateway_actor> gateway;
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;
  /// Reconnect after `backoff_min`, doubling up to `backoff_max`.
  caf::timespan backoff_min = std::chrono::seconds(5);
  caf::timespan backoff_max = std::chrono::seconds(300);
};

/// Holds a slice's cumulative transmit counters, bytes of its ordinary and
/// its exempt (Internet2) class.
struct tx_counters {
  std::int64_t bytes = 0;
  std::int64_t bytes_i2 = 0;
};

/// Reads the transmit counters of `slivers` from the net driver (blocking);
/// a sliver without counters (no class yet) is left out.
using tx_read_fn = std::function<caf::expected<std::map<std::string, tx_counters>>(
    const std::vector<std::string>& slivers)>;

/// Configures the daily byte caps (issue #6 point 8, node manager's bwmon):
/// a capped slice's lowered ceilings (net_max_rate, net_i2_max_rate) go to
/// its sliver actor and so to the net controller, and every effective rspec
/// handed to the controllers carries them until the window ends.
struct byte_cap_options {
  /// Empty: no byte caps.
  tx_read_fn read;
  /// How often the counters are read.
  caf::timespan period = std::chrono::minutes(5);
  /// The accounting window (bwmon: a day).
  std::chrono::seconds window = std::chrono::hours(24);
  /// Where the accounting is persisted (bwmon.dat); empty: in memory.
  std::filesystem::path state_file;
  /// Runs `read` on a thread of its own; false calls it inside the actor
  /// (CAF's test coordinator).
  bool detached = true;
};

/// Installs GetSlivers' conf_files (issue #6 point 9).
struct conf_file_step {
  /// Installs the files of a full snapshot (blocking: fetches and commands);
  /// empty: conf_files are not installed (the sim backend, tests).
  std::function<std::vector<conf_file_report>(const std::vector<conf_file>&)> install;
  /// Runs `install` on a thread of its own; false calls it inside the actor.
  bool detached = true;
};

/// Tells nodemgr's other parts what the node manager did; each runs on the
/// node manager's thread and must not block.
struct node_manager_hooks {
  /// The slivers that must have a local API socket (every live instantiated
  /// record): called with the whole list after each reconciliation is
  /// adopted, before its first action, so a socket exists before its sliver
  /// starts.
  std::function<void(const std::vector<std::string>& slivers)> slivers;
  /// PLC revoked slice `name` at `revoked_at`; its tickets expire at the
  /// latest at `latest_expiry` (the slice's expiry when the node knows it).
  std::function<void(const std::string& name, std::int64_t revoked_at, std::int64_t latest_expiry)>
      revoked;
};

/// Configures a node manager.
struct node_manager_config {
  std::int32_t node_id = 0;
  std::string hostname;
  /// The node key (plnode.txt's NODE_KEY): proves the node on the push link.
  std::string node_key;
  std::string boot_state = "boot";
  node_capacity capacity;
  /// The durable record file (node/record_store.hpp); empty: in memory only.
  std::filesystem::path records_file;
  /// The time for expiry and hello timestamps; must outlive the actor.
  const pl::clock* clock = nullptr;
  /// The container driver and the resource controllers sliver actors use.
  sliver_deps slivers;
  poll_options poll;
  push_options push;
  /// How often the records are checked without a delivery (expiry).
  caf::timespan maintenance = std::chrono::seconds(60);
  /// After a failed action: run the reconciliation again after
  /// `retry_min`, doubling up to `retry_max`.
  caf::timespan retry_min = std::chrono::seconds(10);
  caf::timespan retry_max = std::chrono::seconds(600);
  /// How long one step of a sliver (create, start, ...) may take.
  caf::timespan action_timeout = std::chrono::minutes(10);
  byte_cap_options byte_caps;
  conf_file_step conf_files;
  node_manager_hooks hooks;
  /// Receives the figures /metrics serves; null: none kept.
  std::shared_ptr<node_metrics> metrics;
  /// A revocation whose slice the node does not know keeps the slice's
  /// tickets refused for this long (PLC's longest ticket lifetime).
  std::chrono::seconds ticket_lifetime = std::chrono::hours(24);
};

/// The node manager's own timers and the poll result, besides its public
/// interface; only the node manager sends these to itself.
/// (`flush`: time to read the transmit counters; `receive`: they are read;
/// `close`: conf files installed.)
using node_manager_impl_actor =
    node_manager_actor::extend<caf::reacts_to<caf::tick_atom, std::uint64_t>,
                               caf::reacts_to<caf::update_atom, std::uint64_t>,
                               caf::reacts_to<caf::connect_atom, std::uint64_t>,
                               caf::reacts_to<caf::timeout_atom, std::uint64_t>,
                               caf::reacts_to<caf::flush_atom, std::uint64_t>,
                               caf::reacts_to<caf::receive_atom, std::uint64_t>,
                               caf::reacts_to<caf::close_atom, std::uint64_t>>;

/// Spawns the node manager: loads the records from `records_file` (errors:
/// a damaged or unreadable file, `errc::invalid_argument` for a config
/// without node id or clock), resumes the slivers they hold (their resources
/// are handed to the controllers again and running slivers started, both
/// idempotent in the drivers), polls at once when polling is on and
/// connects to the push gateway when push is on.
caf::expected<node_manager_actor> spawn_node_manager(caf::actor_system& sys,
                                                     node_manager_config cfg);

} // namespace pl::node
