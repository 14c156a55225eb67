#include "sim/engine.hpp"

#include "actors/clock.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <spdlog/spdlog.h>
#include <xmlrpc-c/base.hpp>

#include <unistd.h>

#include "actors/caf_clock.hpp"
#include "actors/errors.hpp"
#include "actors/resources.hpp"
#include "actors/runtime_config.hpp"
#include "actors/ticket.hpp"
#include "drivers/mechanism_driver.hpp"
#include "node/admission.hpp"
#include "node/desired_state.hpp"
#include "plc/api/slivers.hpp"
#include "plc/push/node_registry.hpp"
#include "plc/push/service.hpp"
#include "plc/push/slice_directory.hpp"
#include "plc/store/pool.hpp"
#include "sim/shard.hpp"
#include "sim/virtual_node.hpp"

namespace pl::sim {

namespace {

using xv = xmlrpc_c::value;

constexpr sim_time minute = 60'000'000;
constexpr std::size_t max_violations = 100;
/// How long a container may outlive its expiry: the node manager's expiry
/// timer runs every 60 s (node_manager_config::maintenance), plus a margin.
constexpr std::int64_t expiry_grace = 65;
/// Real time: how often the engine reads the shards' reports.
constexpr sim_time shard_tick = 100'000;

xv str(const std::string& s) {
  return xmlrpc_c::value_string(s);
}
xv num(std::int64_t n) {
  return xmlrpc_c::value_int(static_cast<int>(n));
}
xv strct(std::map<std::string, xv> m) {
  return xmlrpc_c::value_struct(m);
}
xv ints(const std::vector<std::int32_t>& v) {
  std::vector<xv> out;
  for (auto x : v)
    out.push_back(num(x));
  return xmlrpc_c::value_array(out);
}
int as_int(const xv& v) {
  return xmlrpc_c::value_int(v).cvalue();
}

std::string describe(const rpc_result& r) {
  if (r.is_fault())
    return "fault " + std::to_string(r.fault_code) + ": " + r.fault_string;
  return r.error;
}

std::string fmt_time(sim_time t) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3) << static_cast<double>(t) / 1e6;
  return out.str();
}

struct pending_change {
  sim_time committed = 0;
  std::string slice;
  bool present = true;
  std::string tag;
  std::string value;
  std::string label;
};

/// A virtual node as the engine sees it: the real node manager (in `vn`)
/// plus the scenario's view (power, partitions, pending changes, causes).
struct vnode {
  int index = 0;
  std::int32_t node_id = 0;
  std::string hostname;
  std::string key;
  bool up = true; ///< powered (the node manager runs once its first boot is due)
  bool partitioned = false;
  bool broken = false; ///< ignores deletions (a deliberately broken node manager)
  std::uint64_t generation = 0;
  sim_time phase = 0;
  pl::node::node_capacity capacity;
  std::unique_ptr<virtual_node> vn;
  /// Real time: what the node's shard last saw it hold (no `vn` here).
  std::map<std::string, sliver_spec> shard_held;
  /// What the node manager holds (its records' specs), read after each sync.
  std::map<std::string, sliver_spec> specs;
  std::int64_t actions_done = 0;
  sim_time last_request = 0;      ///< when the latest GetSlivers reached PLC
  std::set<std::string> redeemed; ///< delegated slices instantiated here by a ticket
  /// The push link's simulated connection (scenario `push = true`).
  std::optional<caf::actor> link;
  std::shared_ptr<bool> link_cut;
  std::vector<pending_change> pending;
  std::map<std::string, std::string> cause;   ///< slice -> last change that concerned it here
  std::map<std::string, std::string> refused; ///< slice -> admission reason
};

/// A scratch directory for the nodes' disks (records, ticket state) under
/// `parent`, by default in memory when /dev/shm exists (the record store
/// syncs every write), removed at the end.
struct scratch_dir {
  std::filesystem::path path;
  explicit scratch_dir(const std::filesystem::path& parent) {
    std::error_code ec;
    auto base = !parent.empty() ? parent
                : std::filesystem::is_directory("/dev/shm", ec)
                    ? std::filesystem::path{"/dev/shm"}
                    : std::filesystem::temp_directory_path();
    std::string tmpl = (base / "plsim-nodes.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("cannot make a directory for the virtual nodes under " +
                               base.string() + ": " + std::strerror(errno));
    path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

/// The simulated network between one node manager and PLC's push gateway:
/// the node's calls go on to the gateway as this actor's (so PLC registers
/// the link and pushes back through it), PLC's pushes go on to the node
/// manager that said hello last. While `cut` (a partition, PLC down) both
/// ways fail as a broken connection would.
struct push_link_state {
  static inline const char* name = "sim_push_link";
  push_gateway_actor gateway;
  std::shared_ptr<bool> cut;
  std::function<void()> on_push;
  caf::actor node;
};

caf::behavior push_link(caf::stateful_actor<push_link_state>* self, push_gateway_actor gateway,
                        std::shared_ptr<bool> cut, std::function<void()> on_push) {
  self->state.gateway = std::move(gateway);
  self->state.cut = std::move(cut);
  self->state.on_push = std::move(on_push);
  auto severed = [] {
    return pl::make_error(errc::not_connected, "simulated network: cut off from PLC");
  };
  // Relays a request and its answer (or error).
  auto relay = [self](auto reply_tag, const auto& dest, auto... xs) {
    using reply = typename decltype(reply_tag)::type;
    auto rp = self->make_response_promise();
    self->request(dest, caf::infinite, std::move(xs)...)
        .then([rp](reply& r) mutable { rp.deliver(std::move(r)); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  };
  struct str_tag {
    using type = std::string;
  };
  struct ok_tag {
    using type = caf::ok_atom;
  };
  return {
      [=](challenge_atom, std::int32_t node_id) -> caf::result<std::string> {
        if (*self->state.cut)
          return severed();
        return relay(str_tag{}, self->state.gateway, challenge_atom_v, node_id);
      },
      [=](hello_atom, node_hello& h) -> caf::result<caf::ok_atom> {
        if (*self->state.cut)
          return severed();
        self->state.node = caf::actor_cast<caf::actor>(self->current_sender());
        return relay(ok_tag{}, self->state.gateway, hello_atom_v, std::move(h));
      },
      [=](status_atom, node_status& st) -> caf::result<caf::ok_atom> {
        if (*self->state.cut)
          return severed();
        return relay(ok_tag{}, self->state.gateway, status_atom_v, std::move(st));
      },
      [=](snapshot_atom, sliver_snapshot& snap) -> caf::result<caf::ok_atom> {
        if (*self->state.cut || !self->state.node)
          return severed();
        self->state.on_push();
        return relay(ok_tag{}, self->state.node, snapshot_atom_v, std::move(snap));
      },
      [=](revoke_atom, std::string& name, std::int64_t ts) -> caf::result<caf::ok_atom> {
        if (*self->state.cut || !self->state.node)
          return severed();
        self->state.on_push();
        return relay(ok_tag{}, self->state.node, revoke_atom_v, std::move(name), ts);
      },
  };
}

/// Quiets the node actors' own logging for the run (a simulation repeats
/// their warnings thousands of times; the event log says what happened).
struct log_level_guard {
  spdlog::level::level_enum saved = spdlog::get_level();
  log_level_guard() { spdlog::set_level(spdlog::level::err); }
  ~log_level_guard() { spdlog::set_level(saved); }
  log_level_guard(const log_level_guard&) = delete;
  log_level_guard& operator=(const log_level_guard&) = delete;
};

struct slice_state {
  std::int32_t id = 0;
  std::set<int> nodes;
  std::map<std::string, std::int32_t> tag_ids;
  std::string instantiation = "plc-instantiated";
  bool live = true;
};

class engine {
public:
  engine(const scenario& sc, plc_link& plc, const run_options& opt)
      : sc_{sc}
      , plc_{plc}
      , opt_{opt}
      , disks_{opt.scratch_parent}
      , q_{opt.mode == time_mode::real_time}
      , rng_{sc.seed}
      , latency_{seconds_to_time(sc.latency_ms / 1000.0)} {
    if (opt_.mode == time_mode::virtual_time) {
      epoch_ = virtual_epoch;
    } else {
      epoch_ = pl::system_clock_source{}.now_epoch();
    }
    // The nodes' actors run on CAF's test coordinator: one thread, its clock
    // moved by this engine's event queue (to each event's time; in real time
    // the queue waits for the wall clock first).
    pl::configure_runtime(actor_cfg_, {.max_threads = 1, .virtual_time = true});
    sys_.emplace(actor_cfg_);
    sched_ = &dynamic_cast<caf::scheduler::test_coordinator&>(sys_->scheduler());
    node_clock_.emplace(sys_->clock(), pl::clock::time_point{std::chrono::seconds{epoch_}});
    q_.set_wait_hook([this] { stop_if_requested(); });
  }

  ~engine() {
    // The nodes' actors end before the actor system does.
    for (auto& n : nodes_) {
      if (n.vn)
        n.vn->crash();
      if (n.link)
        caf::anon_send_exit(*n.link, caf::exit_reason::user_shutdown);
    }
    if (push_directory_)
      caf::anon_send_exit(*push_directory_, caf::exit_reason::user_shutdown);
    if (push_gateway_)
      caf::anon_send_exit(*push_gateway_, caf::exit_reason::user_shutdown);
    if (push_registry_)
      caf::anon_send_exit(*push_registry_, caf::exit_reason::user_shutdown);
    if (sched_)
      sched_->run();
    nodes_.clear();
  }

  run_report run() {
    auto wall_start = std::chrono::steady_clock::now();
    report_.scenario = sc_.name;
    report_.scenario_file = sc_.file;
    report_.seed = sc_.seed;
    report_.time_mode = opt_.mode == time_mode::virtual_time ? "virtual" : "real";
    report_.plc = plc_.describe();
    report_.nodes = sc_.nodes;
    report_.sites = sc_.sites;
    sync_clock();
    setup();
    report_.setup_wall_seconds = wall_since(wall_start);
    // Real time starts when the testbed stands: its set-up (seconds of PLC
    // calls at time 0) would otherwise make the first events and the nodes'
    // first convergence look that much late.
    q_.resync_wall_clock();
    log("setup done: " + std::to_string(sc_.sites) + " sites, " + std::to_string(sc_.nodes) +
        " nodes, " + std::to_string(slices_.size()) + " slices");
    for (auto& n : nodes_) {
      n.phase = std::uniform_int_distribution<sim_time>(0, sc_.poll_interval * 1'000'000 - 1)(rng_);
      auto gen = n.generation;
      int i = n.index;
      at(n.phase, [this, i, gen] {
        auto& n = nodes_[static_cast<std::size_t>(i)];
        if (n.up && n.generation == gen)
          boot(n, "first boot");
      });
    }
    if (opt_.shards)
      start_shards();
    schedule_timeline();
    schedule_churn();
    end_ = (sc_.duration + sc_.quiet) * 1'000'000;
    for (sim_time t = 0; t <= end_; t += minute)
      at(t, [this] { sample(); });
    auto last_progress = std::chrono::steady_clock::now();
    auto run_start = last_progress;
    while (true) {
      // The node actors' next timer (poll, maintenance, retry) gets an event
      // of its own, so the coordinator's clock never jumps over it.
      if (auto timer = next_timer();
          timer && *timer <= end_ && (q_.empty() || *timer < q_.next_time()))
        at(*timer, [] {});
      if (q_.empty() || q_.next_time() > end_)
        break;
      auto t = q_.next_time();
      if (opt_.plc_clock)
        opt_.plc_clock->set(pl::clock::time_point{std::chrono::seconds{epoch_}} +
                            std::chrono::microseconds{t});
      q_.step();
      stop_if_requested();
      if (opt_.progress &&
          std::chrono::steady_clock::now() - last_progress > std::chrono::seconds{1}) {
        last_progress = std::chrono::steady_clock::now();
        opt_.progress(progress_line());
      }
    }
    q_.run_until(end_);
    sync_clock();
    advance_actors();
    report_.rss_end_kib = resident_kib();
    report_.peak_rss_kib = peak_resident_kib();
    if (!nodes_.empty())
      report_.rss_per_node_bytes =
          static_cast<double>(report_.rss_end_kib - report_.rss_before_nodes_kib) * 1024.0 /
          static_cast<double>(nodes_.size());
    if (opt_.shards) {
      // The final state as the shards see it now, not as last reported.
      take_views(opt_.shards->snapshot());
      report_.shards = opt_.shards->describe();
    }
    final_check();
    if (opt_.progress)
      opt_.progress(progress_line());
    report_.virtual_seconds = static_cast<double>(end_) / 1e6;
    report_.wall_seconds = wall_since(run_start);
    report_.events = q_.executed();
    for (auto& [method, samples] : latencies_) {
      std::sort(samples.begin(), samples.end());
      run_report::latency_stat s;
      s.count = samples.size();
      double sum = 0;
      for (double x : samples)
        sum += x;
      s.mean_ms = samples.empty() ? 0 : sum / static_cast<double>(samples.size());
      s.p99_ms =
          samples.empty() ? 0 : samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
      s.max_ms = samples.empty() ? 0 : samples.back();
      report_.plc_latency[method] = s;
    }
    std::uint64_t slivers = 0;
    for (const auto& n : nodes_) {
      slivers += live_slivers(n);
      auto& held = report_.final_state[n.hostname];
      held.clear();
      for (const auto& [name, spec] : engine::held(n))
        held.push_back(name);
    }
    report_.final_slivers = slivers;
    log(std::string{"end: "} + (report_.passed() ? "passed" : "FAILED") + ", " +
        std::to_string(report_.violations.size()) + " violations");
    return std::move(report_);
  }

private:
  static double wall_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  std::int64_t epoch_now() const {
    if (opt_.mode == time_mode::real_time)
      return pl::system_clock_source{}.now_epoch();
    return epoch_ + q_.now() / 1'000'000;
  }

  double secs() const { return static_cast<double>(q_.now()) / 1e6; }

  void sync_clock() {
    if (opt_.plc_clock)
      opt_.plc_clock->set(pl::clock::time_point{std::chrono::seconds{epoch_}} +
                          std::chrono::microseconds{q_.now()});
  }

  void log(const std::string& line) {
    if (opt_.event_log)
      *opt_.event_log << "t=" << fmt_time(q_.now()) << " " << line << "\n";
  }

  // -------------------------------------------------------------------------
  // PLC calls

  rpc_result plc_call(const std::string& method, const std::vector<xv>& params) {
    auto start = std::chrono::steady_clock::now();
    auto r = plc_.call(method, params);
    latencies_[method].push_back(wall_since(start) * 1000.0);
    ++report_.plc_calls;
    ++calls_this_minute_;
    report_.messages += 2;
    messages_this_minute_ += 2;
    if (!r.ok())
      ++report_.plc_failures;
    return r;
  }

  /// Calls as the admin; an expired session (103) is renewed once.
  rpc_result admin_call(const std::string& method, std::vector<xv> params) {
    params.insert(params.begin(), plc_.admin_auth());
    auto r = plc_call(method, params);
    if (r.is_fault() && r.fault_code == 103 && plc_.relogin()) {
      log("admin session renewed");
      params.front() = plc_.admin_auth();
      r = plc_call(method, params);
    }
    return r;
  }

  xv admin(const std::string& method, std::vector<xv> params, const std::string& what) {
    auto r = admin_call(method, std::move(params));
    if (!r.ok())
      throw std::runtime_error("setting up the testbed: " + method + " (" + what +
                               ") failed: " + describe(r));
    return r.value;
  }

  /// An admin call during the run: failures are logged, not thrown.
  bool try_admin(const std::string& method, std::vector<xv> params, const std::string& label,
                 xv* out = nullptr) {
    auto r = admin_call(method, std::move(params));
    if (!r.ok()) {
      log("plc " + method + " refused (" + label + "): " + describe(r));
      return false;
    }
    if (out)
      *out = r.value;
    return true;
  }

  // -------------------------------------------------------------------------
  // Setup: the testbed through the API

  void setup() {
    for (int s = 0; s < sc_.sites; ++s) {
      auto base = sc_.login_base(s);
      admin("AddSite",
            {strct({{"name", str("Simulated site " + std::to_string(s))},
                    {"abbreviated_name", str(base)},
                    {"login_base", str(base)},
                    {"max_slices", num(100000)},
                    {"url", str("http://" + base + ".sim/")}})},
            base);
      for (int p = 0; p < sc_.persons_per_site; ++p) {
        auto email = "user" + std::to_string(p) + "@" + base + ".sim";
        int id = as_int(admin("AddPerson",
                              {strct({{"first_name", str("User")},
                                      {"last_name", str(std::to_string(p))},
                                      {"email", str(email)}})},
                              email));
        admin("UpdatePerson", {num(id), strct({{"enabled", xmlrpc_c::value_boolean(true)}})},
              email);
        admin("AddPersonToSite", {num(id), str(base)}, email);
        admin("AddRoleToPerson", {str(p == 0 ? "pi" : "user"), num(id)}, email);
      }
      setup_progress("sites", s + 1, sc_.sites);
    }
    nodes_.resize(static_cast<std::size_t>(sc_.nodes));
    for (int i = 0; i < sc_.nodes; ++i) {
      auto& n = nodes_[static_cast<std::size_t>(i)];
      n.index = i;
      n.hostname = sc_.hostname(i);
      n.key = "simkey" + std::to_string(sc_.seed) + "x" + std::to_string(i);
      n.node_id =
          as_int(admin("AddNode",
                       {str(sc_.login_base(sc_.site_of_node(i))),
                        strct({{"hostname", str(n.hostname)}, {"boot_state", str("boot")}})},
                       n.hostname));
      admin("UpdateNode", {num(n.node_id), strct({{"key", str(n.key)}})}, n.hostname);
      pl::node::node_capacity cap;
      cap.cpu_reservable = sc_.capacity.cpu_reservable;
      cap.net_cap_kbps = sc_.capacity.bandwidth_kbps;
      if (sc_.capacity.disk_kb > 0)
        cap.disk_pool_kb = sc_.capacity.disk_kb;
      n.capacity = cap;
      node_by_id_[n.node_id] = i;
      setup_progress("nodes at PLC", i + 1, sc_.nodes);
    }
    start_push();
    // The virtual nodes: built now (their backends), booted at their phase.
    report_.rss_before_nodes_kib = resident_kib();
    auto keys = plc_.ticket_key();
    for (auto& n : nodes_) {
      if (opt_.shards)
        break; // real time: the shards host the nodes (start_shards)
      virtual_node_config c;
      c.node_id = n.node_id;
      c.hostname = n.hostname;
      c.node_key = n.key;
      c.capacity = n.capacity;
      c.state_dir = disks_.path / n.hostname;
      c.clock = &*node_clock_;
      c.poll_interval = std::chrono::seconds{sc_.poll_interval};
      c.poll_jitter = std::chrono::seconds{0};
      c.seed = sc_.seed * 1'000'003 + static_cast<std::uint64_t>(n.index) + 1;
      if (keys)
        c.ticket_keys.add(*keys);
      int i = n.index;
      c.fetch = [this, i] { return fetch(i); };
      if (push_gateway_) {
        n.link_cut = std::make_shared<bool>(false);
        n.link = sys_->spawn(push_link, *push_gateway_, n.link_cut, [this, i] {
          report_.messages += 2;
          messages_this_minute_ += 2;
          nodes_[static_cast<std::size_t>(i)].last_request = q_.now();
          synced_.emplace_back(i, "took a push");
        });
        c.gateway = caf::actor_cast<push_gateway_actor>(*n.link);
      }
      auto made = virtual_node::make(*sys_, std::move(c));
      if (!made)
        throw std::runtime_error("setting up virtual node " + n.hostname + ": " +
                                 caf::to_string(made.error()));
      n.vn = std::move(*made);
      setup_progress("virtual nodes", n.index + 1, sc_.nodes);
    }
    for (const auto& d : sc_.slices) {
      auto where = sc_.file + ":" + std::to_string(d.line);
      if (!create_slice(d.name, resolve(d.nodes, sc_, rng_), d.tags, d.instantiation, d.lifetime,
                        "slices (" + where + ") " + d.name))
        throw std::runtime_error("setting up the testbed: PLC refused slice " + d.name + " (" +
                                 where + "); see the event log");
    }
    const auto& g = sc_.generated;
    for (int k = 0; k < g.count; ++k) {
      int site = std::uniform_int_distribution<int>(0, sc_.sites - 1)(rng_);
      auto name = sc_.login_base(site) + "_" + g.prefix + std::to_string(k);
      node_selector sel;
      sel.how = node_selector::kind::count;
      if (g.nodes_percent > 0)
        sel.count = std::llround(g.nodes_percent * sc_.nodes / 100.0);
      else
        sel.count = std::uniform_int_distribution<int>(g.nodes_per_slice - g.spread,
                                                       g.nodes_per_slice + g.spread)(rng_);
      auto where = sc_.file + ":" + std::to_string(g.line);
      if (!create_slice(name, resolve(sel, sc_, rng_), g.tags, "plc-instantiated", g.lifetime,
                        "slice_set (" + where + ") " + name))
        throw std::runtime_error("setting up the testbed: PLC refused slice " + name + " (" +
                                 where + "); see the event log");
      setup_progress("slices", k + 1, g.count);
    }
  }

  // -------------------------------------------------------------------------
  // Slice changes (each committed at PLC, then expected on the nodes)

  void expect(int node, const std::string& slice, bool present, const std::string& tag,
              const std::string& value, const std::string& label) {
    auto& n = nodes_[static_cast<std::size_t>(node)];
    n.cause[slice] = label;
    // Only plc-instantiated slivers follow PLC alone; delegated ones wait for
    // a ticket.
    auto it = slices_.find(slice);
    if (it != slices_.end() && it->second.instantiation != "plc-instantiated")
      return;
    std::erase_if(n.pending, [&](const pending_change& p) { return p.slice == slice; });
    n.pending.push_back({q_.now(), slice, present, tag, value, label});
    n.cause[slice] = label;
  }

  bool create_slice(const std::string& name, const std::vector<int>& nodes,
                    const std::map<std::string, std::string>& tags,
                    const std::string& instantiation, sim_time lifetime, const std::string& label) {
    xv id_value;
    if (!try_admin("AddSlice",
                   {strct({{"name", str(name)},
                           {"instantiation", str(instantiation)},
                           {"url", str("http://" + name + ".sim/")},
                           {"description", str("simulated slice")},
                           {"max_nodes", num(std::max(sc_.nodes, 100))}})},
                   label, &id_value))
      return false;
    auto& s = slices_[name];
    s = slice_state{};
    s.id = as_int(id_value);
    s.instantiation = instantiation;
    ++report_.slices_created;
    if (lifetime > 0)
      try_admin("UpdateSlice", {str(name), strct({{"expires", num(epoch_now() + lifetime)}})},
                label);
    for (const auto& [tag, value] : tags) {
      xv tag_id;
      if (try_admin("AddSliceTag", {str(name), str(tag), str(value)}, label, &tag_id))
        s.tag_ids[tag] = as_int(tag_id);
    }
    if (sc_.persons_per_site > 0)
      try_admin("AddPersonToSlice",
                {str("user0@" + name.substr(0, name.find('_')) + ".sim"), str(name)}, label);
    log("slice " + name + " created (id " + std::to_string(s.id) + ") by " + label);
    // The nodes must show the slice with (one of) its tags.
    std::string tag, value;
    if (!tags.empty())
      std::tie(tag, value) = *tags.begin();
    add_to_nodes(name, nodes, label, tag, value);
    return true;
  }

  void add_to_nodes(const std::string& name, const std::vector<int>& nodes,
                    const std::string& label, const std::string& tag = {},
                    const std::string& value = {}) {
    auto it = slices_.find(name);
    if (it == slices_.end() || !it->second.live) {
      log("add_slice_to_nodes " + name + ": no such slice (" + label + ")");
      return;
    }
    if (nodes.empty())
      return;
    std::vector<std::int32_t> ids;
    for (int i : nodes)
      ids.push_back(nodes_[static_cast<std::size_t>(i)].node_id);
    if (!try_admin("AddSliceToNodes", {str(name), ints(ids)}, label))
      return;
    for (int i : nodes) {
      it->second.nodes.insert(i);
      expect(i, name, true, tag, value, label);
    }
    log("slice " + name + " added to " + std::to_string(nodes.size()) + " nodes by " + label);
    changed(name);
  }

  void delete_from_nodes(const std::string& name, const std::vector<int>& nodes,
                         const std::string& label) {
    auto it = slices_.find(name);
    if (it == slices_.end() || !it->second.live) {
      log("delete_slice_from_nodes " + name + ": no such slice (" + label + ")");
      return;
    }
    std::vector<int> on;
    for (int i : nodes)
      if (it->second.nodes.count(i))
        on.push_back(i);
    if (on.empty())
      return;
    std::vector<std::int32_t> ids;
    for (int i : on)
      ids.push_back(nodes_[static_cast<std::size_t>(i)].node_id);
    if (!try_admin("DeleteSliceFromNodes", {str(name), ints(ids)}, label))
      return;
    for (int i : on) {
      it->second.nodes.erase(i);
      expect(i, name, false, "", "", label);
    }
    log("slice " + name + " removed from " + std::to_string(on.size()) + " nodes by " + label);
    changed(name);
  }

  void delete_slice(const std::string& name, const std::string& label) {
    auto it = slices_.find(name);
    if (it == slices_.end() || !it->second.live) {
      log("delete_slice " + name + ": no such slice (" + label + ")");
      return;
    }
    if (!try_admin("DeleteSlice", {str(name)}, label))
      return;
    it->second.live = false;
    for (int i : it->second.nodes)
      expect(i, name, false, "", "", label);
    log("slice " + name + " deleted by " + label);
    changed(name);
  }

  void set_tag(const std::string& name, const std::string& tag, const std::string& value,
               const std::string& label) {
    auto it = slices_.find(name);
    if (it == slices_.end() || !it->second.live) {
      log("set_tag " + name + ": no such slice (" + label + ")");
      return;
    }
    auto& s = it->second;
    auto tid = s.tag_ids.find(tag);
    bool ok = false;
    if (value.empty()) {
      if (tid == s.tag_ids.end())
        return;
      ok = try_admin("DeleteSliceTag", {num(tid->second)}, label);
      if (ok)
        s.tag_ids.erase(tid);
    } else if (tid != s.tag_ids.end()) {
      ok = try_admin("UpdateSliceTag", {num(tid->second), str(value)}, label);
    } else {
      xv id;
      ok = try_admin("AddSliceTag", {str(name), str(tag), str(value)}, label, &id);
      if (ok)
        s.tag_ids[tag] = as_int(id);
    }
    if (!ok)
      return;
    for (int i : s.nodes)
      expect(i, name, true, tag, value, label);
    log("slice " + name + " tag " + tag + "=" + value + " by " + label);
    changed(name);
  }

  void renew(const std::string& name, sim_time lifetime, const std::string& label) {
    auto it = slices_.find(name);
    if (it == slices_.end() || !it->second.live)
      return;
    if (!try_admin("UpdateSlice", {str(name), strct({{"expires", num(epoch_now() + lifetime)}})},
                   label))
      return;
    log("slice " + name + " renewed for " + format_duration(lifetime) + " by " + label);
    changed(name);
  }

  // -------------------------------------------------------------------------
  // The timeline and churn

  /// Runs `f` now, or when PLC is back if it is down (users retry).
  void when_plc_up(std::function<void()> f, const std::string& label) {
    if (q_.now() < plc_down_until_) {
      log("deferred until PLC is back: " + label);
      auto until = plc_down_until_;
      at(until, [this, f = std::move(f), label] { when_plc_up(f, label); });
      return;
    }
    f();
  }

  void schedule_timeline() {
    for (std::size_t k = 0; k < sc_.timeline.size(); ++k) {
      const auto& e = sc_.timeline[k];
      auto label = "timeline[" + std::to_string(k) + "] (" + sc_.file + ":" +
                   std::to_string(e.line) + ": " + std::string{to_string(e.kind)} +
                   (e.slice.empty() ? "" : " " + e.slice) + " at " + format_duration(e.at) + ")";
      at(e.at * 1'000'000, [this, &e, label] { run_event(e, label); });
    }
  }

  void run_event(const timeline_event& e, const std::string& label) {
    log("event " + label);
    switch (e.kind) {
    case event_kind::create_slice: {
      auto nodes = resolve(e.nodes, sc_, rng_);
      when_plc_up(
          [=, this] {
            create_slice(e.slice, nodes, e.tags, "plc-instantiated", e.lifetime, label);
          },
          label);
      break;
    }
    case event_kind::delete_slice:
      when_plc_up([=, this] { delete_slice(e.slice, label); }, label);
      break;
    case event_kind::add_slice_to_nodes: {
      auto nodes = resolve(e.nodes, sc_, rng_);
      when_plc_up([=, this] { add_to_nodes(e.slice, nodes, label); }, label);
      break;
    }
    case event_kind::delete_slice_from_nodes: {
      auto nodes = resolve(e.nodes, sc_, rng_);
      when_plc_up([=, this] { delete_from_nodes(e.slice, nodes, label); }, label);
      break;
    }
    case event_kind::set_tag:
      when_plc_up([=, this] { set_tag(e.slice, e.tag, e.value, label); }, label);
      break;
    case event_kind::renew_slice:
      when_plc_up([=, this] { renew(e.slice, e.lifetime, label); }, label);
      break;
    case event_kind::crash:
      for (int i : resolve(e.nodes, sc_, rng_))
        crash(i, e.duration, label);
      break;
    case event_kind::reboot:
      for (int i : resolve(e.nodes, sc_, rng_))
        reboot(i, label);
      break;
    case event_kind::plc_outage:
      plc_outage(e.duration, label);
      break;
    case event_kind::partition:
      partition(resolve(e.nodes, sc_, rng_), e.duration, label);
      break;
    case event_kind::break_node:
      for (int i : resolve(e.nodes, sc_, rng_)) {
        nodes_[static_cast<std::size_t>(i)].broken = true;
        if (auto& vn = nodes_[static_cast<std::size_t>(i)].vn)
          vn->containers().ignore_deletions(true);
        else
          shard_apply(shard_op::break_node, {i}, label);
        log("node " + std::to_string(i) + " broken (ignores deletions) by " + label);
        report_.faults.push_back(
            {secs(), secs(), "broken node", nodes_[static_cast<std::size_t>(i)].hostname});
      }
      break;
    case event_kind::redeem_ticket: {
      auto nodes = resolve(e.nodes, sc_, rng_);
      when_plc_up([=, this] { redeem_ticket(e.slice, e.broker, nodes, label); }, label);
      break;
    }
    case event_kind::set_loans:
      for (int i : resolve(e.nodes, sc_, rng_))
        set_loans(nodes_[static_cast<std::size_t>(i)], e, label);
      break;
    }
  }

  // -------------------------------------------------------------------------
  // Tickets and loans: a broker's and a sliver's calls to a node

  /// A broker gets the slice's ticket from PLC (GetSliceTicket) and presents
  /// it at each node, as a sliver calling the node's Ticket method would: the
  /// node's ticket desk verifies it with PLC's key and hands it to the node
  /// manager's redeem path.
  void redeem_ticket(const std::string& slice, const std::string& broker,
                     const std::vector<int>& nodes, const std::string& label) {
    xv text;
    if (!try_admin("GetSliceTicket", {str(slice)}, label, &text))
      return;
    auto ticket_text = xmlrpc_c::value_string(text).cvalue();
    log("ticket for " + slice + " issued by PLC (" + label + ")");
    int redeemed = 0;
    for (int i : nodes) {
      auto& n = nodes_[static_cast<std::size_t>(i)];
      auto who = "node " + std::to_string(i) + ": ticket for " + slice;
      if (!n.up || !n.vn->up()) {
        log(who + " not presented (node down)");
        continue;
      }
      if (!broker.empty() && !n.vn->containers().holds(broker)) {
        log(who + " not presented: broker " + broker + " has no sliver there");
        continue;
      }
      const auto nm = *n.vn->manager();
      auto node_id = n.node_id;
      auto result = n.vn->tickets().redeem(ticket_text, [&](const signed_ticket& t) -> std::string {
        auto rec = redeemable_ticket(t, node_id);
        if (!rec)
          return "the ticket cannot be used: " + drivers::describe(rec.error());
        auto r = ask<caf::ok_atom>(nm, redeem_atom_v, std::move(*rec));
        return r ? std::string{} : drivers::describe(r.error());
      });
      if (!result.check.valid()) {
        log(who + " refused: " + std::string{to_string(result.check.verdict)} + ": " +
            result.check.message);
        continue;
      }
      if (!result.delivery_error.empty()) {
        log(who + " not redeemed: " + result.delivery_error);
        continue;
      }
      ++redeemed;
      n.redeemed.insert(slice);
      n.cause[slice] = label;
      std::erase_if(n.pending, [&](const pending_change& p) { return p.slice == slice; });
      n.pending.push_back({q_.now(), slice, true, "", "", label});
      n.last_request = q_.now();
      drain();
      after_sync(n, "redeemed a ticket for " + slice);
    }
    log("ticket for " + slice + " redeemed on " + std::to_string(redeemed) + " of " +
        std::to_string(nodes.size()) + " nodes" + (broker.empty() ? "" : " by broker " + broker) +
        " (" + label + ")");
  }

  /// The lender's sliver calls SetLoans on its node (the node manager checks
  /// and applies the loans, or refuses them as a whole).
  void set_loans(vnode& n, const timeline_event& e, const std::string& label) {
    auto who = "node " + std::to_string(n.index) + ": SetLoans " + e.slice;
    if (!n.up || !n.vn->up()) {
      log(who + " not called (node down)");
      return;
    }
    std::vector<loan> loans;
    std::string what;
    for (const auto& l : e.loans) {
      loans.push_back({e.slice, l.to, l.resource, l.amount});
      what +=
          (what.empty() ? "" : ", ") + std::to_string(l.amount) + " " + l.resource + " to " + l.to;
    }
    const auto nm = *n.vn->manager();
    auto r = ask<caf::ok_atom>(nm, loans_atom_v, e.slice, e.slice, loans);
    if (!r) {
      log(who + " refused: " + drivers::describe(r.error()) + " (" + label + ")");
      return;
    }
    log(who + ": lends " + (what.empty() ? "nothing" : what) + " (" + label + ")");
    drain();
    // What the borrowers now get, as the node manager computes it.
    std::set<std::pair<std::string, std::string>> shown;
    for (const auto& l : e.loans) {
      if (!shown.insert({l.to, l.resource}).second)
        continue;
      auto eff = ask<rspec>(nm, effective_atom_v, std::string{"root"}, l.to);
      if (eff)
        log("node " + std::to_string(n.index) + ": " + l.to + " effective " + l.resource + "=" +
            std::to_string(eff->value_of(l.resource)));
      else
        log("node " + std::to_string(n.index) + ": " + l.to +
            " has no effective rspec: " + drivers::describe(eff.error()));
    }
    after_sync(n, "set loans");
  }

  void schedule_churn() {
    for (std::size_t k = 0; k < sc_.churn.size(); ++k) {
      const auto& c = sc_.churn[k];
      if (c.per_hour <= 0)
        continue;
      std::exponential_distribution<double> gap(c.per_hour / 3600.0);
      double t = static_cast<double>(c.from);
      int serial = 0;
      while (true) {
        t += gap(rng_);
        if (t >= static_cast<double>(c.until))
          break;
        auto when = seconds_to_time(t);
        auto label = "churn[" + std::to_string(k) + "] (" + sc_.file + ":" +
                     std::to_string(c.line) + ") #" + std::to_string(serial) + " at " +
                     format_duration(static_cast<sim_time>(t));
        switch (c.what) {
        case churn_decl::kind::crash:
          at(when, [this, &c, label] {
            std::vector<int> up;
            for (const auto& n : nodes_)
              if (n.up)
                up.push_back(n.index);
            if (up.empty())
              return;
            int i = up[std::uniform_int_distribution<std::size_t>(0, up.size() - 1)(rng_)];
            log("event " + label + ": crash node " + std::to_string(i));
            crash(i, c.down, label + " crash");
          });
          break;
        case churn_decl::kind::slice: {
          int site = std::uniform_int_distribution<int>(0, sc_.sites - 1)(rng_);
          auto name =
              sc_.login_base(site) + "_churn" + std::to_string(k) + "n" + std::to_string(serial);
          at(when, [this, &c, name, label] {
            node_selector sel;
            sel.how = node_selector::kind::count;
            sel.count = c.nodes_per_slice;
            auto nodes = resolve(sel, sc_, rng_);
            log("event " + label + ": create_slice " + name);
            when_plc_up(
                [=, this] {
                  create_slice(name, nodes, {}, "plc-instantiated", 0,
                               label + " create_slice " + name);
                },
                label);
          });
          auto gone = when + c.slice_life * 1'000'000;
          if (gone <= sc_.duration * 1'000'000)
            at(gone, [this, name, label] {
              log("event " + label + ": delete_slice " + name);
              when_plc_up([=, this] { delete_slice(name, label + " delete_slice " + name); },
                          label);
            });
          break;
        }
        case churn_decl::kind::tag:
          at(when, [this, &c, label] {
            std::vector<std::string> live;
            for (const auto& [name, s] : slices_)
              if (s.live)
                live.push_back(name);
            if (live.empty())
              return;
            auto name = live[std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng_)];
            auto value =
                c.values[std::uniform_int_distribution<std::size_t>(0, c.values.size() - 1)(rng_)];
            log("event " + label + ": set_tag " + name + " " + c.tag + "=" + value);
            when_plc_up(
                [=, this] {
                  set_tag(name, c.tag, value,
                          label + " set_tag " + name + " " + c.tag + "=" + value);
                },
                label);
          });
          break;
        }
        ++serial;
      }
    }
  }

  // -------------------------------------------------------------------------
  // Faults

  void crash(int i, sim_time down, const std::string& label) {
    auto& n = nodes_[static_cast<std::size_t>(i)];
    if (!n.up)
      return;
    n.up = false;
    ++n.generation; // cancels a first boot still to come
    if (n.vn)
      n.vn->crash();
    else
      shard_apply(shard_op::crash, {i}, label);
    log("node " + std::to_string(i) + " crashed (" + label + ")");
    report_.faults.push_back({secs(), secs() + static_cast<double>(down), "crash", n.hostname});
    if (down > 0)
      after(down * 1'000'000, [this, i, label] { reboot(i, label + " (reboot)"); });
  }

  void reboot(int i, const std::string& label) {
    auto& n = nodes_[static_cast<std::size_t>(i)];
    ++n.generation;
    n.up = true;
    if (n.vn)
      n.vn->crash(); // a reboot of a running node: its actors go first
    boot(n, label);
  }

  /// Starts the node's actors: the node manager resumes from its records
  /// (expiring what is due) and polls at once.
  void boot(vnode& n, const std::string& label) {
    if (!n.vn) {
      // Real time: every node started with its shard; a later boot is a
      // reboot there.
      if (label != "first boot") {
        shard_apply(shard_op::reboot, {n.index}, label);
        log("node " + std::to_string(n.index) + " booted (" + label + ")");
      }
      return;
    }
    if (auto err = n.vn->boot()) {
      add_violation("node boots", n.index,
                    n.hostname + " cannot start its node manager: " + caf::to_string(err), label);
      return;
    }
    if (label != "first boot")
      log("node " + std::to_string(n.index) + " booted (" + label + ")");
  }

  void plc_outage(sim_time duration, const std::string& label) {
    plc_down_until_ = std::max(plc_down_until_, q_.now() + duration * 1'000'000);
    log("PLC down for " + format_duration(duration) + " (" + label + ")");
    update_push_links();
    at(plc_down_until_, [this] { update_push_links(); });
    if (opt_.shards) {
      // The real PLC stays up: every node is cut off from it instead, and
      // users' changes wait as they do in virtual time.
      std::vector<int> all;
      for (const auto& n : nodes_)
        all.push_back(n.index);
      shard_apply(shard_op::partition, all, label);
      after(duration * 1'000'000, [this, label] {
        if (q_.now() < plc_down_until_)
          return; // a later outage heals them
        std::vector<int> reachable;
        for (const auto& n : nodes_)
          if (!n.partitioned)
            reachable.push_back(n.index);
        shard_apply(shard_op::heal, reachable, label + " (PLC back)");
      });
    }
    report_.faults.push_back({secs(), secs() + static_cast<double>(duration), "PLC outage", ""});
  }

  void partition(const std::vector<int>& nodes, sim_time duration, const std::string& label) {
    for (int i : nodes)
      nodes_[static_cast<std::size_t>(i)].partitioned = true;
    update_push_links();
    if (opt_.shards)
      shard_apply(shard_op::partition, nodes, label);
    log("partition: " + std::to_string(nodes.size()) + " nodes cut off from PLC for " +
        format_duration(duration) + " (" + label + ")");
    report_.faults.push_back({secs(), secs() + static_cast<double>(duration), "partition",
                              std::to_string(nodes.size()) + " nodes"});
    after(duration * 1'000'000, [this, nodes, label] {
      for (int i : nodes)
        nodes_[static_cast<std::size_t>(i)].partitioned = false;
      update_push_links();
      if (opt_.shards && q_.now() >= plc_down_until_)
        shard_apply(shard_op::heal, nodes, label + " (healed)");
      log("partition healed (" + label + ")");
    });
  }

  // -------------------------------------------------------------------------
  // Virtual nodes: real node managers on the test coordinator, whose clock
  // follows the event queue

  /// PLC's push side on the nodes' actor system (scenario `push = true`,
  /// embedded PLC): plc/push's registry, gateway and slice directory on the
  /// PLC database; the engine tells the directory about every slice it
  /// changes, as the database's change notifications do in plcd.
  void start_push() {
    if (!sc_.push)
      return;
    auto* pool = plc_.database();
    const pl::clock* clk = opt_.plc_clock;
    if (pool == nullptr || clk == nullptr || opt_.shards) {
      log("push: not available with this PLC (embedded, virtual time only); nodes poll");
      return;
    }
    pl::plc::push::registry_config rc;
    rc.lookup = pl::plc::push::database_node_lookup(*pool);
    rc.clock = clk;
    push_registry_ = pl::plc::push::spawn_node_registry(*sys_, std::move(rc), false);
    push_gateway_ = pl::plc::push::spawn_push_gateway(*sys_, *push_registry_);
    pl::plc::push::directory_config dc;
    dc.load = [pool, clk](std::int32_t id) {
      return pl::plc::push::load_desired_slice(*pool, *clk, id);
    };
    dc.live_slices = [pool, clk] {
      auto conn = pool->acquire();
      auto ids = pl::plc::api::live_slice_ids(*conn, clk->now_epoch());
      return std::vector<std::int32_t>(ids.begin(), ids.end());
    };
    dc.registry = *push_registry_;
    dc.clock = clk;
    push_directory_ = pl::plc::push::spawn_slice_directory(*sys_, std::move(dc), false);
    drain();
    log("push: PLC's gateway is up; nodes connect at boot");
  }

  /// A slice changed at PLC: its actor pushes the difference to the nodes.
  void changed(const std::string& name) {
    auto it = slices_.find(name);
    if (push_directory_ && it != slices_.end())
      caf::anon_send(*push_directory_, caf::put_atom_v, it->second.id);
  }

  /// Cuts or restores each node's push connection as partitions and PLC
  /// outages say; a cut connection is reported to the node manager as lost,
  /// so it reconnects with its backoff.
  void update_push_links() {
    for (auto& n : nodes_) {
      if (!n.link)
        continue;
      bool cut = n.partitioned || q_.now() < plc_down_until_;
      if (cut == *n.link_cut)
        continue;
      *n.link_cut = cut;
      if (cut && n.vn && n.vn->up())
        caf::anon_send(caf::actor_cast<caf::actor>(*n.vn->manager()),
                       caf::down_msg{n.link->address(),
                                     caf::make_error(caf::exit_reason::remote_link_unreachable)});
    }
  }

  /// Schedules `f` at `t`; the node actors' clock is moved there first and
  /// their messages are run to quiescence afterwards.
  void at(sim_time t, std::function<void()> f) {
    q_.at(t, [this, f = std::move(f)] {
      advance_actors();
      f();
      drain();
    });
  }

  void after(sim_time d, std::function<void()> f) { at(q_.now() + d, std::move(f)); }

  /// The coordinator's earliest timer in simulation time (rounded up).
  std::optional<sim_time> next_timer() const {
    const auto& clk = sched_->clock();
    if (!clk.has_pending_timeout())
      return std::nullopt;
    auto due = clk.schedule().begin()->first - clk.current_time;
    auto us = std::chrono::ceil<std::chrono::microseconds>(due).count();
    return coordinator_now_ + std::max<sim_time>(us, 0);
  }

  /// Moves the coordinator's clock to the queue's time (firing the timers
  /// due) and runs the messages.
  void advance_actors() {
    auto now = std::max(q_.now(), coordinator_now_);
    // Also with no time to advance: a timer set for the current instant
    // fires now rather than never.
    sched_->advance_time(std::chrono::microseconds{now - coordinator_now_});
    coordinator_now_ = now;
    drain();
  }

  /// Runs the actors' messages until none is left, then looks at the nodes
  /// that synced meanwhile.
  void drain() {
    sched_->run();
    while (!synced_.empty()) {
      auto nodes = std::move(synced_);
      synced_.clear();
      for (const auto& [i, what] : nodes)
        after_sync(nodes_[static_cast<std::size_t>(i)], what);
    }
  }

  /// Asks a node manager and waits (on the coordinator) for its answer.
  template <class Reply, class... Ts>
  caf::expected<Reply> ask(const node_manager_actor& nm, Ts... xs) {
    std::optional<caf::expected<Reply>> out;
    sys_->spawn([&out, nm, xs...](caf::event_based_actor* self) {
      self->request(nm, caf::infinite, xs...)
          .then([&out](Reply& r) { out.emplace(std::move(r)); },
                [&out](caf::error& err) { out.emplace(std::move(err)); });
    });
    sched_->run();
    if (!out)
      return pl::make_error(errc::not_connected, "the node manager did not answer");
    return std::move(*out);
  }

  /// The node manager's GetSlivers call: through the simulated network to
  /// PLC's XML-RPC edge with hmac node auth. Runs inside the node manager's
  /// poll (on the coordinator, at the queue's time).
  caf::expected<pl::node::desired_state> fetch(int i) {
    auto& n = nodes_[static_cast<std::size_t>(i)];
    if (n.partitioned || q_.now() < plc_down_until_) {
      ++report_.plc_failures;
      ++report_.messages;
      ++messages_this_minute_;
      std::string why = n.partitioned ? "partitioned from PLC" : "PLC down";
      log("node " + std::to_string(i) + " poll failed: " + why);
      return pl::make_error(errc::not_connected, "GetSlivers: " + why);
    }
    std::vector<xv> args;
    auto auth = node_auth(n.node_id, n.key, args);
    auto r = plc_call("GetSlivers", {auth});
    if (!r.ok()) {
      log("node " + std::to_string(i) + " GetSlivers failed: " + describe(r));
      return pl::make_error(errc::not_connected, "GetSlivers: " + describe(r));
    }
    auto desired = pl::node::parse_get_slivers(r.value);
    if (!desired) {
      add_violation("GetSlivers parses", n.index,
                    "node " + std::to_string(n.index) +
                        " cannot read GetSlivers: " + caf::to_string(desired.error()),
                    "");
      return desired.error();
    }
    n.last_request = q_.now();
    synced_.emplace_back(i, "synced");
    return desired;
  }

  /// Reads what the node manager made of a delivery: its records' specs and
  /// refusals; then convergence and the continuous checks.
  void after_sync(vnode& n, const std::string& what = "synced") {
    if (!n.vn->up())
      return;
    const auto& nm = *n.vn->manager();
    auto specs = ask<std::vector<sliver_spec>>(nm, caf::get_atom_v);
    auto status = ask<node_status>(nm, status_atom_v);
    if (!specs || !status) {
      log("node " + std::to_string(n.index) + " did not answer after a sync");
      return;
    }
    n.specs.clear();
    for (auto& s : *specs)
      n.specs.emplace(s.name, std::move(s));
    n.refused.clear();
    for (const auto& r : status->refusals) {
      n.refused[r.slice] = r.reason;
      if (refusal_seen_.insert(n.hostname + ": " + r.slice + ": " + r.reason).second)
        report_.refusals.push_back(n.hostname + ": " + r.slice + ": " + r.reason);
    }
    auto done = status->counters["actions_done"];
    auto actions = done - n.actions_done;
    n.actions_done = done;
    log("node " + std::to_string(n.index) + " " + what + ": " + std::to_string(live_slivers(n)) +
        " slivers, " + std::to_string(actions) + " actions" +
        (n.refused.empty() ? "" : ", " + std::to_string(n.refused.size()) + " refused"));
    converge(n, n.last_request);
    check_node(n, what);
  }

  // -------------------------------------------------------------------------
  // Real time: the nodes are real node managers on CAF's scheduler, hosted
  // by shards (sim/shard.hpp); the engine reads what they hold from the
  // shards' reports.

  /// What node `n` holds: its containers (virtual time) or what its shard
  /// last saw (real time).
  static const std::map<std::string, sliver_spec>& held(const vnode& n) {
    return n.vn ? n.vn->containers().held() : n.shard_held;
  }

  static std::size_t live_slivers(const vnode& n) { return held(n).size(); }

  /// Deals the nodes to the shards, which start them (each polls at once).
  void start_shards() {
    auto cfg = opt_.shards->config();
    cfg.poll_interval_ms = sc_.poll_interval * 1000;
    cfg.poll_jitter_ms = cfg.poll_interval_ms / 4;
    cfg.seed = sc_.seed;
    std::vector<shard_node> hosted;
    for (const auto& n : nodes_)
      hosted.push_back({n.index, n.node_id, n.hostname, n.key, n.capacity.cpu_reservable,
                        n.capacity.net_cap_kbps, n.capacity.disk_pool_kb.value_or(0)});
    opt_.shards->start(cfg, hosted);
    for (const auto& line : opt_.shards->describe())
      log("shard: " + line);
    after(shard_tick, [this] { read_shards(); });
  }

  /// Tells the shards about a fault; a refusal is a violation (the run no
  /// longer simulates what the scenario says).
  void shard_apply(shard_op op, const std::vector<int>& nodes, const std::string& label) {
    if (nodes.empty())
      return;
    std::vector<std::int32_t> indexes(nodes.begin(), nodes.end());
    for (const auto& err : opt_.shards->apply(op, indexes))
      add_violation("shards follow the scenario", -1, err, label);
  }

  /// Takes the shards' reports of nodes whose slivers changed.
  void read_shards() {
    take_views(opt_.shards->changes());
    if (q_.now() + shard_tick <= end_)
      after(shard_tick, [this] { read_shards(); });
  }

  void take_views(const std::vector<node_view>& views) {
    for (const auto& v : views) {
      if (v.index < 0 || static_cast<std::size_t>(v.index) >= nodes_.size())
        continue;
      auto& n = nodes_[static_cast<std::size_t>(v.index)];
      if (!v.up)
        continue; // a crashed node keeps what it held, as its records do
      n.shard_held.clear();
      n.specs.clear();
      for (const auto& s : v.slivers) {
        n.shard_held.emplace(s.name, s);
        n.specs.emplace(s.name, s);
      }
      n.refused.clear();
      for (const auto& r : v.refusals) {
        n.refused[r.slice] = r.reason;
        if (refusal_seen_.insert(n.hostname + ": " + r.slice + ": " + r.reason).second)
          report_.refusals.push_back(n.hostname + ": " + r.slice + ": " + r.reason);
      }
      log("node " + std::to_string(n.index) + " holds " + std::to_string(live_slivers(n)) +
          " slivers" +
          (n.refused.empty() ? "" : ", " + std::to_string(n.refused.size()) + " refused"));
      converge(n, q_.now());
      check_node(n, "synced");
    }
  }

  bool satisfied(const vnode& n, const pending_change& p) const {
    bool held = engine::held(n).count(p.slice) > 0;
    if (!p.present)
      return !held;
    auto it = n.specs.find(p.slice);
    if (!held || it == n.specs.end())
      return false;
    if (p.tag.empty())
      return true;
    const auto& spec = it->second;
    if (pl::is_resource(p.tag))
      return std::to_string(spec.resources.value_of(p.tag)) == p.value;
    auto a = spec.attributes.find(p.tag);
    return a != spec.attributes.end() && a->second == p.value;
  }

  void converge(vnode& n, sim_time requested) {
    std::vector<pending_change> still;
    for (auto& p : n.pending) {
      if (p.committed > requested) {
        still.push_back(p);
        continue;
      }
      if (n.refused.count(p.slice)) {
        log("node " + std::to_string(n.index) + " refused " + p.slice + ": " + n.refused[p.slice]);
        continue;
      }
      if (satisfied(n, p)) {
        double latency = static_cast<double>(q_.now() - p.committed) / 1e6;
        report_.convergence.push_back(
            {n.index, static_cast<double>(p.committed) / 1e6, latency, p.label});
        continue;
      }
      still.push_back(p);
    }
    n.pending = std::move(still);
  }

  // -------------------------------------------------------------------------
  // Invariants

  void add_violation(const std::string& invariant, int node, const std::string& what,
                     const std::string& cause) {
    if (report_.violations.size() >= max_violations)
      return;
    log("VIOLATION " + invariant + ": " + what + (cause.empty() ? "" : " (after " + cause + ")"));
    report_.violations.push_back({secs(), invariant, node, what, cause});
  }

  std::string cause_of(const vnode& n, const std::string& slice) const {
    auto it = n.cause.find(slice);
    return it == n.cause.end() ? "the initial testbed" : it->second;
  }

  /// After every change on a node: what its containers hold fits its
  /// capacity (the guarantees of the slivers it runs, as its node manager
  /// last listed them).
  void check_node(vnode& n, const std::string& context) {
    std::int64_t cpu_pct = 0;
    std::int64_t net_min = 0;
    for (const auto& [name, spec] : n.specs) {
      if (!held(n).count(name))
        continue;
      cpu_pct += spec.resources.value_of("cpu_pct");
      net_min += spec.resources.value_of("net_min_rate");
    }
    auto last_cause = [&] {
      std::string c;
      for (const auto& [slice, label] : n.cause)
        c = label;
      return c;
    };
    const auto& cap = n.capacity;
    if (static_cast<double>(cpu_pct) > cap.cpu_reservable * 100.0 + 1e-9)
      add_violation("admission", n.index,
                    n.hostname + " admits cpu_pct " + std::to_string(cpu_pct) + " > " +
                        std::to_string(cap.cpu_reservable * 100) + " after " + context,
                    last_cause());
    if (net_min > cap.net_cap_kbps)
      add_violation("admission", n.index,
                    n.hostname + " admits net_min_rate " + std::to_string(net_min) + " kbps > " +
                        std::to_string(cap.net_cap_kbps) + " after " + context,
                    last_cause());
  }

  /// Every minute: no container outlives its sliver's expiry by more than
  /// the node manager's maintenance period (its expiry timer).
  void check_expiry(const vnode& n) {
    auto now = epoch_now();
    for (const auto& [name, held] : engine::held(n)) {
      auto it = n.specs.find(name);
      auto expires = it != n.specs.end() ? it->second.expires : held.expires;
      if (expires > 0 && now - expires > expiry_grace)
        add_violation("expiry", n.index,
                      n.hostname + " holds " + name + " " + std::to_string(now - expires) +
                          " s past its expiry",
                      cause_of(n, name));
    }
  }

  /// After the quiet time: every reachable node holds exactly the slivers
  /// PLC assigns it (admission refusals aside): its plc-instantiated slices,
  /// and the delegated ones a ticket instantiated there.
  void final_check() {
    auto r =
        admin_call("GetSlices", {xmlrpc_c::value_nil(),
                                 xmlrpc_c::value_array({str("name"), str("node_ids"),
                                                        str("expires"), str("instantiation")})});
    if (!r.ok()) {
      add_violation("PLC reachable", -1, "GetSlices failed at the end: " + describe(r), "");
      return;
    }
    auto now = epoch_now();
    std::vector<std::set<std::string>> want(nodes_.size());
    std::set<std::string> live_delegated;
    for (const auto& v : xmlrpc_c::value_array(r.value).cvalue()) {
      auto s = xmlrpc_c::value_struct(v).cvalue();
      auto name = xmlrpc_c::value_string(s.at("name")).cvalue();
      auto inst = xmlrpc_c::value_string(s.at("instantiation")).cvalue();
      std::int64_t expires = 0;
      const auto& e = s.at("expires");
      if (e.type() == xmlrpc_c::value::TYPE_INT)
        expires = xmlrpc_c::value_int(e).cvalue();
      else if (e.type() == xmlrpc_c::value::TYPE_I8)
        expires = xmlrpc_c::value_i8(e).cvalue();
      if (expires > 0 && expires <= now)
        continue;
      if (inst == "delegated")
        live_delegated.insert(name);
      if (inst != "plc-instantiated")
        continue;
      for (const auto& id : xmlrpc_c::value_array(s.at("node_ids")).cvalue()) {
        auto it = node_by_id_.find(as_int(id));
        if (it != node_by_id_.end())
          want[static_cast<std::size_t>(it->second)].insert(name);
      }
    }
    int checked = 0;
    for (auto& n : nodes_) {
      if (!n.up || n.partitioned) {
        log("final check: node " + std::to_string(n.index) + " not checked (" +
            (n.up ? "partitioned" : "down") + ")");
        continue;
      }
      ++checked;
      auto& w = want[static_cast<std::size_t>(n.index)];
      for (const auto& name : n.redeemed)
        if (live_delegated.count(name))
          w.insert(name);
      std::set<std::string> have;
      for (const auto& [name, spec] : held(n))
        have.insert(name);
      for (const auto& name : have)
        if (!w.count(name))
          add_violation("slices where PLC says", n.index,
                        n.hostname + " (node " + std::to_string(n.index) + ") still holds " + name +
                            ", which PLC no longer assigns it",
                        cause_of(n, name));
      for (const auto& name : w)
        if (!have.count(name) && !n.refused.count(name))
          add_violation("slices where PLC says", n.index,
                        n.hostname + " (node " + std::to_string(n.index) + ") lacks " + name +
                            ", which PLC assigns it",
                        cause_of(n, name));
    }
    log("final check: " + std::to_string(checked) + " nodes compared with PLC");
  }

  // -------------------------------------------------------------------------
  // Sampling and progress

  void sample() {
    double t = secs();
    int up = 0;
    std::uint64_t slivers = 0;
    for (const auto& n : nodes_) {
      if (n.up)
        ++up;
      slivers += live_slivers(n);
      if (n.up)
        check_expiry(n);
    }
    report_.nodes_up.push_back({t, static_cast<double>(up)});
    report_.slivers_total.push_back({t, static_cast<double>(slivers)});
    report_.plc_calls_per_min.push_back({t, static_cast<double>(calls_this_minute_)});
    report_.messages_per_min.push_back({t, static_cast<double>(messages_this_minute_)});
    calls_this_minute_ = 0;
    messages_this_minute_ = 0;
  }

  void stop_if_requested() const {
    if (opt_.stop_requested && opt_.stop_requested())
      throw run_interrupted{};
  }

  /// Reports the set-up about once a second: a large testbed takes minutes to build through
  /// PLCAPI before the first event.
  void setup_progress(const char* what, int done, int total) {
    stop_if_requested();
    if (!opt_.progress)
      return;
    auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_setup_progress_ < std::chrono::seconds{1})
      return;
    last_setup_progress_ = now;
    opt_.progress("plsim " + sc_.name + ": setting up " + what + " " + std::to_string(done) + "/" +
                  std::to_string(total));
  }

  std::string progress_line() const {
    int up = 0;
    for (const auto& n : nodes_)
      if (n.up)
        ++up;
    std::vector<double> lat;
    for (const auto& c : report_.convergence)
      lat.push_back(c.latency);
    std::string p99 = "-";
    if (!lat.empty()) {
      std::sort(lat.begin(), lat.end());
      p99 = format_duration(
          static_cast<sim_time>(lat[std::min(lat.size() - 1, lat.size() * 99 / 100)]));
    }
    std::ostringstream out;
    out << "plsim " << sc_.name << ": " << format_duration(q_.now() / 1'000'000) << " / "
        << format_duration(sc_.duration + sc_.quiet) << "  nodes up " << up << "/" << nodes_.size()
        << "  PLC calls " << report_.plc_calls << "  converged " << report_.convergence.size()
        << " (p99 " << p99 << ")  violations " << report_.violations.size();
    return out.str();
  }

  const scenario& sc_;
  plc_link& plc_;
  run_options opt_;
  std::chrono::steady_clock::time_point last_setup_progress_{};
  log_level_guard quiet_logs_;
  // The node actors' world; declared before the nodes, so it outlives them.
  caf::actor_system_config actor_cfg_;
  std::optional<caf::actor_system> sys_;
  caf::scheduler::test_coordinator* sched_ = nullptr;
  std::optional<pl::caf_clock> node_clock_;
  sim_time coordinator_now_ = 0;
  /// Nodes that took a delivery (GetSlivers, a push) during the current drain.
  std::vector<std::pair<int, std::string>> synced_;
  /// PLC's push side (scenario `push = true`): registry, gateway, slice directory.
  std::optional<node_registry_actor> push_registry_;
  std::optional<push_gateway_actor> push_gateway_;
  std::optional<pl::plc::push::slice_directory_actor> push_directory_;
  scratch_dir disks_;
  event_queue q_;
  std::mt19937_64 rng_;
  sim_time latency_;
  std::int64_t epoch_ = virtual_epoch;
  sim_time end_ = 0;
  sim_time plc_down_until_ = 0;
  std::vector<vnode> nodes_;
  std::map<std::int32_t, int> node_by_id_;
  std::map<std::string, slice_state> slices_;
  std::set<std::string> refusal_seen_;
  std::map<std::string, std::vector<double>> latencies_;
  std::uint64_t calls_this_minute_ = 0;
  std::uint64_t messages_this_minute_ = 0;
  run_report report_;
};

} // namespace

run_report run_scenario(const scenario& sc, plc_link& plc, const run_options& options) {
  engine e{sc, plc, options};
  return e.run();
}

} // namespace pl::sim
