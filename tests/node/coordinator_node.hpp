#pragma once

// One node on CAF's deterministic test coordinator, for the suites that drive
// the real node_manager actor: the sim driver backend with its actors, a
// virtual clock, a scratch state directory and the calls the tests make.

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/caf_clock.hpp"
#include "actors/runtime_config.hpp"
#include "drivers/backend.hpp"
#include "node/node_manager.hpp"
#include "node/wiring.hpp"
#include "tests/coordinator_request.hpp"
#include "tests/node/scratch.hpp"

namespace pl::node::test {

/// Builds the deliveries a suite pushes to node `node_id`: slivers expiring
/// 30 days after `epoch` (slice id derived from the name), with one ssh key
/// named after the sliver when `with_keys`, and snapshots of them.
struct deliveries {
  std::int32_t node_id;
  std::int64_t epoch;
  bool with_keys = false;

  sliver_spec sliver(const std::string& name, std::map<std::string, std::int64_t> res = {},
                     std::string inst = "plc-instantiated") const {
    sliver_spec s;
    s.name = name;
    s.slice_id = static_cast<std::int32_t>(name.size()) + 10;
    s.node_id = node_id;
    s.instantiation = std::move(inst);
    s.expires = epoch + 30 * 86400;
    if (with_keys)
      s.keys = {"ssh-rsa AAAA " + name};
    s.resources.values = std::move(res);
    return s;
  }

  sliver_snapshot snapshot(std::vector<sliver_spec> slivers, std::int64_t ts,
                           bool full = true) const {
    sliver_snapshot s;
    s.node_id = node_id;
    s.timestamp = ts;
    s.full = full;
    s.slivers = std::move(slivers);
    return s;
  }
};

struct coordinator_node {
  std::int32_t own_node_id;
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::optional<caf_clock> clock;
  scratch dir;
  drivers::backend backend;
  node_actors actors;
  std::optional<node_manager_actor> nm;

  /// The clock starts at `epoch_seconds`; `adjust` may wrap the backend's
  /// parts (e.g. count container calls) before the driver actors take them.
  coordinator_node(std::int32_t id, std::int64_t epoch_seconds,
                   const std::function<void(drivers::backend&)>& adjust = {})
      : own_node_id(id) {
    configure_runtime(cfg, {.max_threads = 1, .virtual_time = true});
    sys.emplace(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    clock.emplace(sys->clock(), clock::time_point(std::chrono::seconds(epoch_seconds)));
    drivers::backend_options o;
    o.kind = "sim";
    o.state_dir = dir.dir / "drivers";
    auto b = drivers::make_backend(o);
    REQUIRE(b);
    backend = std::move(*b);
    if (adjust)
      adjust(backend);
    actors = spawn_node_actors(*sys, backend);
  }

  ~coordinator_node() {
    stop();
    stop_node_actors(actors);
    sched->run();
  }

  coordinator_node(const coordinator_node&) = delete;
  coordinator_node& operator=(const coordinator_node&) = delete;

  /// Polls every 600 s without jitter (so timers fall where a test expects
  /// them), records in the scratch directory, and every helper inside the
  /// actor: the coordinator cannot run detached ones.
  node_manager_config config() {
    using namespace std::chrono_literals;
    node_manager_config c;
    c.node_id = own_node_id;
    c.hostname = "node" + std::to_string(own_node_id) + ".example.org";
    c.clock = &*clock;
    c.slivers = actors.deps;
    c.records_file = dir.dir / "nm" / "records";
    c.poll.detached = false;
    c.poll.seed = 42;
    c.poll.interval = 600s;
    c.poll.jitter = 0s;
    c.byte_caps.detached = false;
    c.conf_files.detached = false;
    return c;
  }

  void start(node_manager_config c) {
    auto x = spawn_node_manager(*sys, std::move(c));
    REQUIRE(x);
    nm = *x;
    sched->run();
  }

  void stop() {
    if (nm) {
      caf::anon_send_exit(*nm, caf::exit_reason::kill);
      nm.reset();
      sched->run();
    }
  }

  template <class Reply, class Handle, class... Ts>
  caf::expected<Reply> call(Handle hdl, Ts... xs) {
    return pl::testing::request_and_run<Reply>(*sys, *sched, hdl, xs...);
  }

  caf::expected<caf::ok_atom> push(const sliver_snapshot& s) {
    return call<caf::ok_atom>(*nm, snapshot_atom_v, s);
  }

  node_status status() {
    auto s = call<node_status>(*nm, status_atom_v);
    REQUIRE(s);
    return *s;
  }

  /// The value of `resource` in force at the driver for `sliver`.
  std::optional<std::int64_t> knob(mechanism m, const std::string& sliver,
                                   const std::string& resource) {
    auto a = backend.find(m)->read(sliver);
    if (!a)
      return std::nullopt;
    auto i = a->values.find(resource);
    if (i == a->values.end())
      return std::nullopt;
    return i->second;
  }

  /// Moves the virtual clock by `d`, running every timer that falls due.
  void advance(caf::timespan d) {
    sched->advance_time(d);
    sched->run();
  }
};

} // namespace pl::node::test
