#include "sim/virtual_node.hpp"

#include <fstream>
#include <sstream>

#include <caf/send.hpp>
#include <unistd.h>

#include "actors/errors.hpp"
#include "node/desired_state.hpp"
#include "plc/api/tickets.hpp"

namespace pl::sim {

// -- sim_node_containers -------------------------------------------------------

caf::error sim_node_containers::create(const sliver_spec& spec) {
  if (auto err = inner_->create(spec))
    return err;
  // Only what identifies the container and bounds its life: the rest (keys,
  // tags, resources) is the node manager's, and a copy per sliver of a
  // 100,000-node run is memory the simulation cannot spare.
  sliver_spec kept;
  kept.name = spec.name;
  kept.slice_id = spec.slice_id;
  kept.node_id = spec.node_id;
  kept.instantiation = spec.instantiation;
  kept.expires = spec.expires;
  specs_[spec.name] = std::move(kept);
  ++creates_;
  return caf::none;
}

caf::error sim_node_containers::start(const std::string& name) {
  return inner_->start(name);
}

caf::error sim_node_containers::stop(const std::string& name) {
  return inner_->stop(name);
}

caf::error sim_node_containers::destroy(const std::string& name) {
  if (ignore_deletions_) {
    ++refused_destroys_;
    return make_error(errc::mechanism_failure,
                      "simulated fault: this node ignores deletions (" + name + " kept)");
  }
  if (auto err = inner_->destroy(name))
    return err;
  specs_.erase(name);
  ++destroys_;
  return caf::none;
}

void sim_node_containers::power_off() {
  for (const auto& name : inner_->containers())
    if (inner_->running(name))
      inner_->stop(name);
}

// -- configuration ---------------------------------------------------------------

node::node_manager_config sim_node_manager_config(const virtual_node_config& cfg,
                                                  const node::sliver_deps& deps) {
  node::node_manager_config c;
  c.node_id = cfg.node_id;
  c.hostname = cfg.hostname;
  c.node_key = cfg.node_key;
  c.capacity = cfg.capacity;
  c.records_file = cfg.state_dir / "records";
  c.clock = cfg.clock;
  c.slivers = deps;
  c.poll.fetch = cfg.fetch;
  c.poll.detached = cfg.detached_poll;
  c.poll.interval = cfg.poll_interval;
  c.poll.jitter = cfg.poll_jitter;
  c.poll.backoff_min = cfg.backoff_min;
  c.poll.seed = cfg.seed != 0 ? cfg.seed : static_cast<std::uint64_t>(cfg.node_id);
  if (cfg.gateway) {
    c.push.enabled = true;
    c.push.gateway = cfg.gateway;
  }
  return c;
}

// -- virtual_node ------------------------------------------------------------------

virtual_node::virtual_node(caf::actor_system& sys, virtual_node_config cfg)
    : sys_(sys)
    , cfg_(std::move(cfg)) {}

caf::expected<std::unique_ptr<virtual_node>> virtual_node::make(caf::actor_system& sys,
                                                                virtual_node_config cfg) {
  if (cfg.node_id <= 0)
    return make_error(errc::invalid_argument, "virtual node: no node id");
  if (cfg.clock == nullptr)
    return make_error(errc::invalid_argument, "virtual node: no clock");
  if (cfg.state_dir.empty())
    return make_error(errc::invalid_argument, "virtual node: no state directory");
  std::error_code ec;
  std::filesystem::create_directories(cfg.state_dir, ec);
  if (ec)
    return make_error(errc::invalid_argument,
                      "virtual node: cannot make " + cfg.state_dir.string() + ": " + ec.message());
  std::unique_ptr<virtual_node> n{new virtual_node(sys, std::move(cfg))};
  drivers::backend_options opts;
  opts.kind = "sim";
  // The drivers' records (managed allocations, overrides) stay in the
  // backend, which outlives a crash like the node's disk: a file per sliver
  // and mechanism took a tmpfs page each (~480 KiB per node of 20 slivers).
  opts.state_dir.clear();
  auto b = drivers::make_backend(opts);
  if (!b)
    return b.error();
  n->backend_ = std::move(*b);
  n->containers_ = std::make_shared<sim_node_containers>(n->backend_.containers);
  n->backend_.containers = n->containers_;
  auto desk = node::ticket_desk::open({.node_id = n->cfg_.node_id,
                                       .keys = n->cfg_.ticket_keys,
                                       .state_file = n->cfg_.state_dir / "tickets.state"},
                                      *n->cfg_.clock);
  if (!desk)
    return make_error(errc::invalid_argument,
                      "virtual node " + n->cfg_.hostname + ": ticket state: " + desk.error());
  n->desk_ = std::move(*desk);
  return n;
}

virtual_node::~virtual_node() {
  crash();
}

caf::error virtual_node::boot() {
  if (manager_)
    return caf::none;
  actors_ = node::spawn_node_actors(sys_, backend_);
  auto nm = node::spawn_node_manager(sys_, sim_node_manager_config(cfg_, actors_->deps));
  if (!nm) {
    node::stop_node_actors(*actors_);
    actors_.reset();
    return nm.error();
  }
  manager_ = *nm;
  return caf::none;
}

void virtual_node::crash() {
  if (manager_) {
    // The sliver actors are linked to their node manager and go with it.
    caf::anon_send_exit(*manager_, caf::exit_reason::kill);
    manager_.reset();
  }
  if (actors_) {
    node::stop_node_actors(*actors_);
    actors_.reset();
  }
  if (containers_)
    containers_->power_off();
}

// -- helpers -------------------------------------------------------------------------

caf::expected<ticket> redeemable_ticket(const signed_ticket& t, std::int32_t node_id) {
  auto desired = node::from_ticket(t.body, node_id);
  if (!desired)
    return desired.error();
  if (desired->slivers.size() != 1)
    return make_error(errc::invalid_argument, desired->invalid.empty()
                                                  ? "the ticket names no usable sliver"
                                                  : desired->invalid.front().reason);
  return plc::api::ticket_record(t, desired->slivers.front());
}

std::int64_t resident_kib() {
  std::ifstream in{"/proc/self/statm"};
  std::int64_t size = 0, resident = 0;
  if (!(in >> size >> resident))
    return 0;
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

std::int64_t peak_resident_kib() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields{line.substr(6)};
      std::int64_t kib = 0;
      fields >> kib;
      return kib;
    }
  return 0;
}

} // namespace pl::sim
