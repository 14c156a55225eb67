#include "sim/node_host.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <system_error>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/clock.hpp"
#include "actors/errors.hpp"
#include "drivers/backend.hpp"
#include "node/node_manager.hpp"
#include "node/plc_sync.hpp"
#include "node/record_store.hpp"
#include "node/wiring.hpp"
#include "sim/virtual_node.hpp"

namespace pl::sim {

namespace fs = std::filesystem;

std::string to_string(shard_op x) {
  switch (x) {
  case shard_op::crash:
    return "crash";
  case shard_op::reboot:
    return "reboot";
  case shard_op::partition:
    return "partition";
  case shard_op::heal:
    return "heal";
  case shard_op::break_node:
    return "break_node";
  }
  return "?";
}

namespace {

/// What a node's GetSlivers fetch consults before and after asking PLC: the
/// simulated faults. Shared with the fetch, which runs on a poller thread.
struct link_faults {
  std::atomic<bool> partitioned{false};
  std::atomic<bool> broken{false};
  /// A broken node's slivers as it last kept them (it never lets one go).
  std::mutex mutex;
  std::vector<sliver_spec> kept;
};

/// Wraps the real fetch with the node's faults: a partitioned node cannot
/// reach PLC; a broken one keeps every sliver it ever got (it ignores
/// deletions, as a faulty node manager would).
node::fetch_fn faulty(node::fetch_fn real, std::shared_ptr<link_faults> faults) {
  return [real = std::move(real), faults]() -> caf::expected<node::desired_state> {
    if (faults->partitioned)
      return make_error(errc::not_connected, "PLC unreachable: partitioned (simulated)");
    auto d = real();
    if (!d || !faults->broken)
      return d;
    std::lock_guard guard{faults->mutex};
    for (const auto& k : faults->kept)
      if (std::none_of(d->slivers.begin(), d->slivers.end(),
                       [&](const sliver_spec& s) { return s.name == k.name; }))
        d->slivers.push_back(k);
    faults->kept = d->slivers;
    return d;
  };
}

} // namespace

struct node_host::hosted {
  shard_node node;
  fs::path dir;
  /// The node's simulated kernel: kept across crashes, as a disk is.
  drivers::backend backend;
  std::shared_ptr<link_faults> faults = std::make_shared<link_faults>();
  node::fetch_fn fetch;
  bool want_up = true;
  std::optional<node::node_actors> actors;
  std::optional<node_manager_actor> nm;
};

node_host::node_host(caf::actor_system& sys, shard_config cfg, fs::path state_dir,
                     const pl::clock& clock)
    : sys_{sys}
    , cfg_{std::move(cfg)}
    , state_dir_{std::move(state_dir)}
    , clock_{clock} {}

node_host::~node_host() {
  for (auto& [index, h] : nodes_)
    stop(*h);
}

caf::error node_host::add(const shard_node& n) {
  if (nodes_.count(n.index))
    return make_error(errc::invalid_argument,
                      "node " + std::to_string(n.index) + " is hosted here already");
  if (n.node_id <= 0 || n.key.empty())
    return make_error(errc::invalid_argument,
                      "node " + std::to_string(n.index) + ": no node id or key");
  auto h = std::make_unique<hosted>();
  h->node = n;
  h->dir = state_dir_ / ("node" + std::to_string(n.index));
  std::error_code ec;
  fs::create_directories(h->dir, ec);
  if (ec)
    return make_error(errc::invalid_argument,
                      "cannot create " + h->dir.string() + ": " + ec.message());
  drivers::backend_options bopts;
  bopts.kind = "sim";
  bopts.state_dir = h->dir / "drivers";
  if (n.bandwidth_kbps > 0)
    bopts.net_cap_kbps = n.bandwidth_kbps;
  auto backend = drivers::make_backend(bopts);
  if (!backend)
    return backend.error();
  h->backend = std::move(*backend);
  node::plc_sync_options sync;
  sync.url = cfg_.plc_url;
  sync.ca_file = cfg_.plc_cafile;
  sync.node = {n.node_id, n.key, n.hostname, {}};
  sync.auth = node::plc_auth::hmac;
  sync.connect_timeout = std::chrono::seconds(5);
  sync.io_timeout = std::chrono::milliseconds(std::max<std::int64_t>(cfg_.poll_interval_ms, 5000));
  h->fetch = faulty(node::make_get_slivers_fetch(std::move(sync)), h->faults);
  auto& ref = *h;
  nodes_.emplace(n.index, std::move(h));
  return boot(ref);
}

bool node_host::up(std::int32_t index) const {
  auto it = nodes_.find(index);
  return it != nodes_.end() && it->second->want_up;
}

caf::error node_host::boot(hosted& h) {
  if (h.nm)
    return caf::none;
  auto actors = node::spawn_node_actors(sys_, h.backend);
  // Configured as the virtual-time engine configures its nodes
  // (sim/virtual_node.hpp), plus the push link by address as nodemgr has it.
  virtual_node_config v;
  v.node_id = h.node.node_id;
  v.hostname = h.node.hostname;
  v.node_key = h.node.key;
  v.capacity.cpu_reservable = h.node.cpu_reservable;
  if (h.node.bandwidth_kbps > 0)
    v.capacity.net_cap_kbps = h.node.bandwidth_kbps;
  if (h.node.disk_kb > 0)
    v.capacity.disk_pool_kb = h.node.disk_kb;
  v.state_dir = h.dir;
  v.clock = &clock_;
  v.fetch = h.fetch;
  v.detached_poll = true;
  v.poll_interval = std::chrono::milliseconds(cfg_.poll_interval_ms);
  v.poll_jitter = std::chrono::milliseconds(cfg_.poll_jitter_ms);
  v.backoff_min = std::chrono::milliseconds(std::min<std::int64_t>(cfg_.poll_interval_ms, 1000));
  v.seed = cfg_.seed * 1'000'003 + static_cast<std::uint64_t>(h.node.index) + 1;
  auto c = sim_node_manager_config(v, actors.deps);
  c.poll.backoff_max = std::chrono::milliseconds(cfg_.poll_interval_ms);
  // A partitioned or broken node is off the push link (pushes would reach it
  // past the partition, or bring it the deletions it must miss).
  if (cfg_.push_port != 0 && !h.faults->partitioned && !h.faults->broken) {
    c.push.enabled = true;
    c.push.host = cfg_.push_host;
    c.push.port = cfg_.push_port;
    c.push.backoff_min = std::chrono::seconds(1);
    c.push.backoff_max = std::chrono::seconds(10);
  }
  c.maintenance = std::chrono::milliseconds(cfg_.maintenance_ms);
  c.retry_min = std::chrono::seconds(1);
  c.retry_max = std::chrono::seconds(30);
  c.action_timeout = std::chrono::seconds(30);
  auto nm = node::spawn_node_manager(sys_, std::move(c));
  if (!nm) {
    node::stop_node_actors(actors);
    spdlog::error("sim.node_host event=boot_failed node={} error=\"{}\"", h.node.index,
                  caf::to_string(nm.error()));
    return nm.error();
  }
  h.actors = std::move(actors);
  h.nm = *nm;
  return caf::none;
}

std::optional<caf::actor_addr> node_host::stop(hosted& h) {
  if (!h.nm)
    return std::nullopt;
  auto addr = caf::actor_cast<caf::actor_addr>(*h.nm);
  caf::anon_send_exit(*h.nm, caf::exit_reason::user_shutdown);
  if (h.actors)
    node::stop_node_actors(*h.actors);
  h.nm.reset();
  h.actors.reset();
  return addr;
}

std::optional<caf::actor_addr> node_host::apply(shard_op op, std::int32_t index) {
  auto it = nodes_.find(index);
  if (it == nodes_.end())
    return std::nullopt;
  auto& h = *it->second;
  auto restart = [&]() -> std::optional<caf::actor_addr> {
    auto addr = stop(h);
    if (addr) {
      stopping_[*addr] = index;
      return addr;
    }
    // Not running: boot now unless an earlier stop is still under way (its
    // `stopped` boots it).
    bool pending = std::any_of(stopping_.begin(), stopping_.end(),
                               [&](const auto& kv) { return kv.second == index; });
    if (h.want_up && !pending)
      boot(h);
    return std::nullopt;
  };
  switch (op) {
  case shard_op::crash: {
    h.want_up = false;
    auto addr = stop(h);
    if (addr)
      stopping_[*addr] = index;
    return addr;
  }
  case shard_op::reboot:
    h.want_up = true;
    return restart();
  case shard_op::partition:
    h.faults->partitioned = true;
    return h.want_up ? restart() : std::nullopt;
  case shard_op::heal:
    h.faults->partitioned = false;
    return h.want_up ? restart() : std::nullopt;
  case shard_op::break_node:
    if (!h.faults->broken) {
      // From now on it keeps what it holds (its last persisted records).
      auto loaded = node::record_store{h.dir / "records"}.load();
      std::lock_guard guard{h.faults->mutex};
      if (loaded && *loaded)
        for (const auto& [name, r] : (*loaded)->slivers)
          if (!r.removed())
            h.faults->kept.push_back(r.spec);
    }
    h.faults->broken = true;
    return h.want_up ? restart() : std::nullopt;
  }
  return std::nullopt;
}

void node_host::stopped(const caf::actor_addr& addr) {
  auto it = stopping_.find(addr);
  if (it == stopping_.end())
    return;
  auto index = it->second;
  stopping_.erase(it);
  auto n = nodes_.find(index);
  if (n != nodes_.end() && n->second->want_up)
    boot(*n->second);
}

std::vector<std::pair<std::int32_t, node_manager_actor>> node_host::running() const {
  std::vector<std::pair<std::int32_t, node_manager_actor>> out;
  for (const auto& [index, h] : nodes_)
    if (h->nm)
      out.emplace_back(index, *h->nm);
  return out;
}

} // namespace pl::sim
