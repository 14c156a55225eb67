#include "node/node_manager.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include "actors/errors.hpp"
#include "actors/push_proof.hpp"
#include "drivers/mechanism_driver.hpp"
#include "node/atomic_file.hpp"
#include "node/record_store.hpp"

namespace pl::node {

namespace {

using drivers::describe;

/// Where a detached poll leaves its result for the node manager (both live in
/// this process; the poller only says `update` when it is there).
struct poll_slot {
  std::mutex mutex;
  std::optional<caf::expected<desired_state>> result;
};

/// Where a detached counter read leaves its result.
struct tx_slot {
  std::mutex mutex;
  std::optional<caf::expected<std::map<std::string, tx_counters>>> result;
};

/// Where a detached conf file installation leaves its reports.
struct conf_slot {
  std::mutex mutex;
  std::optional<std::vector<conf_file_report>> result;
};

struct node_manager_state {
  static inline const char* name = "node_manager";

  node_manager_config cfg;
  std::optional<reconciler> logic;
  node_records records;
  std::optional<record_store> store;
  bool dirty = false;

  std::map<std::string, sliver_actor> slivers;
  std::deque<action> queue;
  bool busy = false;
  /// Bumped by every new plan; an action finishing under an older one
  /// makes the queue be derived again from the records.
  std::uint64_t plan_generation = 0;
  /// Consecutive rounds with a failed action, for the retry backoff.
  int failed_rounds = 0;
  bool round_failed = false;
  std::uint64_t retry_token = 0;

  /// The latest refusal per slice (admission, unusable tags), cleared when
  /// a later delivery of that slice is applied.
  std::map<std::string, std::string> refusals;
  std::map<std::string, std::int64_t> counters;
  std::int64_t last_sync = 0;

  // Polling.
  std::shared_ptr<poll_slot> slot = std::make_shared<poll_slot>();
  bool polling = false;
  int poll_failures = 0;
  std::uint64_t poll_token = 0;
  std::mt19937_64 rng;

  // Push.
  std::optional<push_gateway_actor> gateway;
  bool connected = false;
  bool connecting = false;
  int push_failures = 0;
  std::uint64_t push_token = 0;

  // Byte caps.
  std::optional<byte_caps> caps;
  std::shared_ptr<tx_slot> tx = std::make_shared<tx_slot>();
  bool reading = false;
  std::uint64_t cap_token = 0;
  /// The ceilings (net_max_rate, net_i2_max_rate) last put to the net
  /// controller for capped slices.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> cap_sent;

  // Conf files.
  std::shared_ptr<conf_slot> conf = std::make_shared<conf_slot>();
  bool installing = false;
  /// The files of a snapshot that arrived while installing (the latest).
  std::optional<std::vector<conf_file>> conf_next;
  /// The files whose last installation failed, with why.
  std::map<std::string, std::string> conf_failures;

  // Hooks and metrics.
  std::optional<std::vector<std::string>> socket_slivers;
  std::optional<pl::clock::time_point> run_started;
  /// Actions done and failed in the current run (for its log line).
  int run_done = 0;
  int run_failed = 0;

  std::int64_t now() const { return cfg.clock->now_epoch(); }
  void count(const std::string& what, std::int64_t n = 1) { counters[what] += n; }
};

using self_ptr = node_manager_impl_actor::stateful_pointer<node_manager_state>;

caf::timespan doubled(caf::timespan base, int failures, caf::timespan cap) {
  auto d = base;
  for (int i = 1; i < failures && d < cap; ++i)
    d *= 2;
  return std::min(d, cap);
}

// -- hooks and metrics -------------------------------------------------------

node_status status_of(const node_manager_state& st);

/// Hands the latest status to the metrics (when kept).
void publish(self_ptr self) {
  auto& st = self->state;
  if (st.cfg.metrics)
    st.cfg.metrics->status(status_of(st));
}

/// Tells the socket hook which slivers must have a local API socket, when
/// that changed.
void sync_sockets(self_ptr self) {
  auto& st = self->state;
  if (!st.cfg.hooks.slivers)
    return;
  std::vector<std::string> names;
  for (const auto& [name, r] : st.records.slivers)
    if (!r.removed() && r.instantiated)
      names.push_back(name);
  if (st.socket_slivers == names)
    return;
  st.socket_slivers = names;
  st.cfg.hooks.slivers(names);
}

// -- persistence -----------------------------------------------------------

void persist(self_ptr self) {
  auto& st = self->state;
  if (!st.dirty || !st.store)
    return;
  if (auto err = st.store->save(st.records)) {
    st.count("persist_failures");
    spdlog::error("node.manager event=persist_failed file={} error=\"{}\"",
                  st.store->file().string(), describe(err));
    return;
  }
  st.dirty = false;
}

// -- carrying out actions ----------------------------------------------------

void run_queue(self_ptr self);

sliver_actor sliver_of(self_ptr self, const std::string& name) {
  auto& st = self->state;
  if (auto i = st.slivers.find(name); i != st.slivers.end())
    return i->second;
  auto deps = st.cfg.slivers;
  sliver_phase phase = sliver_phase::pending;
  sliver_spec spec;
  if (auto r = st.records.slivers.find(name); r != st.records.slivers.end()) {
    phase = r->second.phase;
    spec = r->second.applied_spec;
  }
  auto s = spawn_sliver(self->home_system(), name, std::move(deps), phase, std::move(spec));
  // Slivers end with their node manager (a sliver's normal exit after its
  // destroy does not travel back).
  self->link_to(s);
  st.slivers.emplace(name, s);
  return s;
}

void schedule_retry(self_ptr self) {
  auto& st = self->state;
  ++st.failed_rounds;
  auto delay = doubled(st.cfg.retry_min, st.failed_rounds, st.cfg.retry_max);
  self->delayed_send(self, delay, caf::timeout_atom_v, ++st.retry_token);
}

void finished(self_ptr self, const action& a, std::uint64_t generation, caf::error err) {
  auto& st = self->state;
  st.busy = false;
  if (err) {
    record_failed(st.records, a);
    st.count("actions_failed");
    ++st.run_failed;
    st.round_failed = true;
    spdlog::warn("node.manager event=action_failed sliver={} action={} reason=\"{}\" error=\"{}\"",
                 a.sliver, to_string(a.kind), a.reason, describe(err));
    // The sliver's later steps depend on this one: leave them to the retry.
    st.queue.erase(std::remove_if(st.queue.begin(), st.queue.end(),
                                  [&](const action& x) { return x.sliver == a.sliver; }),
                   st.queue.end());
  } else {
    record_done(st.records, a);
    st.count("actions_done");
    ++st.run_done;
    spdlog::debug("node.manager event=action_done sliver={} action={} reason=\"{}\"", a.sliver,
                  to_string(a.kind), a.reason);
    if (a.kind == action_kind::destroy && st.records.slivers.count(a.sliver) == 0)
      st.slivers.erase(a.sliver);
  }
  st.dirty = true;
  if (generation != st.plan_generation) {
    // A delivery arrived meanwhile: derive the steps again from the records,
    // which now include this outcome.
    auto p = st.logic->refresh(st.records, st.now());
    st.records = std::move(p.records);
    st.queue.assign(p.actions.begin(), p.actions.end());
    st.plan_generation += 1;
    sync_sockets(self);
  }
  run_queue(self);
}

/// Returns `effective` with the slice's byte-cap ceilings, while capped.
rspec with_byte_cap(const node_manager_state& st, const std::string& name, rspec effective) {
  if (!st.caps)
    return effective;
  auto s = st.caps->status(name);
  if (!s)
    return effective;
  if (s->capped)
    effective.values["net_max_rate"] =
        std::min(s->net_max_rate, effective.value_of("net_max_rate"));
  if (s->i2_capped)
    effective.values["net_i2_max_rate"] =
        std::min(s->net_i2_max_rate, effective.value_of("net_i2_max_rate"));
  return effective;
}

void run_queue(self_ptr self) {
  auto& st = self->state;
  if (st.busy)
    return;
  if (st.queue.empty()) {
    persist(self);
    if (st.run_started) {
      auto took = std::chrono::duration<double>(st.cfg.clock->now() - *st.run_started).count();
      st.run_started.reset();
      st.count("reconcile_runs");
      if (st.run_done + st.run_failed > 0)
        // Debug: a simulator runs thousands of node managers in one process.
        spdlog::debug("node.manager event=reconciled actions_done={} actions_failed={} "
                      "seconds={:.3f}",
                      st.run_done, st.run_failed, took);
      st.run_done = st.run_failed = 0;
      if (st.cfg.metrics)
        st.cfg.metrics->observe_reconcile(std::max(took, 0.0));
    }
    publish(self);
    if (st.round_failed) {
      st.round_failed = false;
      schedule_retry(self);
    } else {
      st.failed_rounds = 0;
    }
    return;
  }
  auto a = std::move(st.queue.front());
  st.queue.pop_front();
  st.busy = true;
  auto generation = st.plan_generation;
  auto s = sliver_of(self, a.sliver);
  auto timeout = st.cfg.action_timeout;
  auto on_ok = [self, a, generation](caf::ok_atom) { finished(self, a, generation, caf::none); };
  auto on_err = [self, a, generation](caf::error& err) {
    finished(self, a, generation, std::move(err));
  };
  switch (a.kind) {
  case action_kind::destroy:
    self->request(s, timeout, destroy_atom_v).then(on_ok, on_err);
    break;
  case action_kind::create:
  case action_kind::configure:
  case action_kind::run_initscript:
    self->request(s, timeout, caf::put_atom_v, a.spec).then(on_ok, on_err);
    break;
  case action_kind::set_rspec:
    self->request(s, timeout, effective_atom_v, with_byte_cap(st, a.sliver, a.effective))
        .then(on_ok, on_err);
    break;
  case action_kind::suspend:
  case action_kind::stop:
    self->request(s, timeout, stop_atom_v).then(on_ok, on_err);
    break;
  case action_kind::start:
    self->request(s, timeout, start_atom_v).then(on_ok, on_err);
    break;
  }
}

/// Takes a plan: its records become the node's (persisted before acting),
/// its actions the queue.
void adopt(self_ptr self, plan p) {
  auto& st = self->state;
  if (p.records != st.records) {
    st.records = std::move(p.records);
    st.dirty = true;
  }
  for (const auto& r : p.refusals) {
    st.refusals[r.slice] = r.reason;
    st.count("refusals");
    spdlog::info("node.manager event=refused slice={} reason=\"{}\"", r.slice, r.reason);
  }
  persist(self);
  st.queue.assign(p.actions.begin(), p.actions.end());
  st.plan_generation += 1;
  if (!st.run_started)
    st.run_started = st.cfg.clock->now();
  sync_sockets(self);
  run_queue(self);
}

/// Applies a delivery through the reconciler.
caf::expected<plan> deliver(self_ptr self, const desired_state& d) {
  auto& st = self->state;
  auto p = st.logic->apply(d, st.records, st.now());
  if (!p)
    return p.error();
  if (p->stale) {
    st.count("stale_deliveries");
  } else {
    std::set<std::string> refused;
    for (const auto& r : p->refusals)
      refused.insert(r.slice);
    for (const auto& s : d.slivers)
      if (!refused.count(s.name))
        st.refusals.erase(s.name);
  }
  if (d.full && !p->stale) {
    // A full snapshot says which refusals still matter.
    std::set<std::string> listed;
    for (const auto& s : d.slivers)
      listed.insert(s.name);
    for (const auto& s : d.invalid)
      listed.insert(s.slice);
    for (auto i = st.refusals.begin(); i != st.refusals.end();)
      i = listed.count(i->first) ? std::next(i) : st.refusals.erase(i);
  }
  auto copy = *p;
  adopt(self, std::move(*p));
  return copy;
}

void refresh(self_ptr self) {
  auto& st = self->state;
  adopt(self, st.logic->refresh(st.records, st.now()));
}

// -- conf files --------------------------------------------------------------

void conf_done(self_ptr self, std::vector<conf_file_report> reports);

/// Installs a full snapshot's conf files, off the actor's thread unless told
/// otherwise; a snapshot arriving meanwhile is installed next.
void install_conf_files(self_ptr self, std::vector<conf_file> files) {
  auto& st = self->state;
  if (!st.cfg.conf_files.install)
    return;
  if (st.installing) {
    st.conf_next = std::move(files);
    return;
  }
  st.installing = true;
  if (!st.cfg.conf_files.detached) {
    conf_done(self, st.cfg.conf_files.install(files));
    return;
  }
  self->spawn<caf::detached>(
      [slot = st.conf, install = st.cfg.conf_files.install, files = std::move(files),
       nm = caf::actor_cast<caf::actor>(self)](caf::event_based_actor* worker) {
        auto reports = install(files);
        {
          std::lock_guard guard{slot->mutex};
          slot->result = std::move(reports);
        }
        worker->send(nm, caf::close_atom_v, std::uint64_t{0});
      });
}

void conf_done(self_ptr self, std::vector<conf_file_report> reports) {
  auto& st = self->state;
  st.installing = false;
  st.conf_failures.clear();
  for (const auto& r : reports) {
    switch (r.outcome) {
    case conf_file_outcome::installed:
      st.count("conf_files_installed");
      spdlog::info("node.conf_files event=installed dest={}{}", r.dest,
                   r.detail.empty() ? "" : " detail=\"" + r.detail + "\"");
      if (!r.detail.empty())
        st.conf_failures[r.dest] = r.detail;
      break;
    case conf_file_outcome::refused:
    case conf_file_outcome::failed:
      st.count("conf_file_failures");
      st.conf_failures[r.dest] = r.detail;
      spdlog::warn("node.conf_files event={} dest={} detail=\"{}\"", to_string(r.outcome), r.dest,
                   r.detail);
      break;
    case conf_file_outcome::unchanged:
    case conf_file_outcome::disabled:
      break;
    }
  }
  publish(self);
  if (st.conf_next) {
    auto next = std::move(*st.conf_next);
    st.conf_next.reset();
    install_conf_files(self, std::move(next));
  }
}

// -- byte caps ---------------------------------------------------------------

constexpr std::string_view caps_magic = "plnm-bytecaps 1";

/// Writes the accounting atomically (temporary file, fsync, rename).
caf::error save_caps(const std::filesystem::path& file,
                     const std::map<std::string, byte_cap_record>& records) {
  std::ostringstream os;
  os << caps_magic << '\n';
  for (const auto& [slice, r] : records)
    os << slice << ' ' << r.window_start << ' ' << r.sent << ' ' << r.sent_i2 << ' '
       << r.last_counter << ' ' << r.last_counter_i2 << ' ' << (r.retired ? 1 : 0) << '\n';
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (auto why = replace_file(file, os.str()))
    return make_error(errc::mechanism_failure, *why);
  return caf::none;
}

/// Reads the accounting; an absent file is empty, a damaged one an error
/// naming the line.
caf::expected<std::map<std::string, byte_cap_record>> load_caps(const std::filesystem::path& file) {
  std::map<std::string, byte_cap_record> out;
  std::ifstream in{file};
  if (!in) {
    if (!std::filesystem::exists(file))
      return out;
    return make_error(errc::mechanism_failure, "cannot read " + file.string());
  }
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto bad = [&](const std::string& why) {
      return make_error(errc::invalid_argument,
                        file.string() + ":" + std::to_string(n) + ": " + why);
    };
    if (n == 1) {
      if (line != caps_magic)
        return bad("not a byte cap file (expected \"" + std::string{caps_magic} + "\")");
      continue;
    }
    std::istringstream ls{line};
    std::string slice;
    byte_cap_record r;
    int retired = 0;
    std::string extra;
    if (!(ls >> slice >> r.window_start >> r.sent >> r.sent_i2 >> r.last_counter >>
          r.last_counter_i2 >> retired) ||
        (ls >> extra) || (retired != 0 && retired != 1) || !drivers::valid_sliver_name(slice))
      return bad("expected: slice window_start sent sent_i2 counter counter_i2 retired(0|1)");
    r.retired = retired == 1;
    out[slice] = r;
  }
  if (n == 0)
    return make_error(errc::invalid_argument, file.string() + ": empty (no header line)");
  return out;
}

void caps_read_done(self_ptr self, caf::expected<std::map<std::string, tx_counters>> counters);

/// Reads the transmit counters of the slivers that exist.
void read_counters(self_ptr self) {
  auto& st = self->state;
  if (!st.caps || st.reading)
    return;
  std::vector<std::string> names;
  for (const auto& [name, r] : st.records.slivers)
    if (!r.removed() && (r.phase == sliver_phase::created || r.phase == sliver_phase::running ||
                         r.phase == sliver_phase::stopped))
      names.push_back(name);
  st.reading = true;
  if (!st.cfg.byte_caps.detached) {
    caps_read_done(self, st.cfg.byte_caps.read(names));
    return;
  }
  self->spawn<caf::detached>(
      [slot = st.tx, read = st.cfg.byte_caps.read, names = std::move(names),
       nm = caf::actor_cast<caf::actor>(self)](caf::event_based_actor* worker) {
        auto result = read(names);
        {
          std::lock_guard guard{slot->mutex};
          slot->result = std::move(result);
        }
        worker->send(nm, caf::receive_atom_v, std::uint64_t{0});
      });
}

/// Feeds the counters to the byte caps, puts changed ceilings to the net
/// controller, persists and reports.
void caps_read_done(self_ptr self, caf::expected<std::map<std::string, tx_counters>> counters) {
  auto& st = self->state;
  st.reading = false;
  self->delayed_send(self, st.cfg.byte_caps.period, caf::flush_atom_v, ++st.cap_token);
  if (!counters) {
    st.count("byte_cap_read_failures");
    spdlog::warn("node.bytecap event=read_failed error=\"{}\"", describe(counters.error()));
    return;
  }
  auto effective = effective_rspecs(st.records);
  for (const auto& [name, c] : *counters) {
    auto e = effective.find(name);
    if (e == effective.end())
      continue;
    auto before = st.caps->status(name);
    auto s = st.caps->update(name, c.bytes, c.bytes_i2, e->second);
    bool was = before && (before->capped || before->i2_capped);
    bool is = s.capped || s.i2_capped;
    if (s.newly_capped || (is && !was))
      spdlog::info("node.bytecap event=capped slice={} sent={} sent_i2={} ceiling_kbps={} "
                   "ceiling_i2_kbps={} until={}",
                   name, s.sent, s.sent_i2, s.net_max_rate, s.net_i2_max_rate, s.window_end);
    else if (was && !is)
      spdlog::info("node.bytecap event=uncapped slice={} window_end={}", name, s.window_end);
    auto sent = st.cap_sent.find(name);
    if (is || sent != st.cap_sent.end()) {
      // Through the sliver actor, so the ceiling reaches the net controller
      // after any effective rspec the sliver is still handing on. Put every
      // round while capped: the ceiling falls as the window runs out.
      self->request(sliver_of(self, name), st.cfg.action_timeout, effective_atom_v,
                    with_byte_cap(st, name, e->second))
          .then([](caf::ok_atom) {},
                [name](caf::error& err) {
                  spdlog::warn("node.bytecap event=apply_failed slice={} error=\"{}\"", name,
                               describe(err));
                });
      if (is && sent == st.cap_sent.end())
        st.count("byte_caps_applied");
      if (is)
        st.cap_sent[name] = {s.net_max_rate, s.net_i2_max_rate};
      else
        st.cap_sent.erase(sent);
    }
  }
  // Slices that left keep their bytes until their window ends.
  for (const auto& [name, r] : st.caps->records())
    if (!r.retired && effective.count(name) == 0)
      st.caps->retire(name);
  st.caps->prune();
  for (auto i = st.cap_sent.begin(); i != st.cap_sent.end();)
    i = effective.count(i->first) ? std::next(i) : st.cap_sent.erase(i);
  if (!st.cfg.byte_caps.state_file.empty())
    if (auto err = save_caps(st.cfg.byte_caps.state_file, st.caps->records())) {
      st.count("persist_failures");
      spdlog::error("node.bytecap event=persist_failed file={} error=\"{}\"",
                    st.cfg.byte_caps.state_file.string(), describe(err));
    }
  if (st.cfg.metrics) {
    std::map<std::string, byte_cap_status> caps;
    for (const auto& [name, r] : st.caps->records())
      if (!r.retired)
        if (auto x = st.caps->status(name))
          caps[name] = *x;
    st.cfg.metrics->byte_caps(std::move(caps));
  }
  publish(self);
}

// -- polling -----------------------------------------------------------------

void schedule_poll(self_ptr self, caf::timespan delay) {
  auto& st = self->state;
  if (delay <= caf::timespan{0})
    self->send(self, caf::tick_atom_v, ++st.poll_token);
  else
    self->delayed_send(self, delay, caf::tick_atom_v, ++st.poll_token);
}

caf::timespan next_poll_delay(self_ptr self) {
  auto& st = self->state;
  const auto& o = st.cfg.poll;
  if (st.poll_failures > 0) {
    auto backoff = doubled(o.backoff_min, st.poll_failures, o.backoff_max);
    return o.interval > caf::timespan{0} ? std::min(backoff, o.interval) : backoff;
  }
  auto jitter_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(o.jitter).count();
  std::int64_t extra = 0;
  if (jitter_ns > 0)
    extra = std::uniform_int_distribution<std::int64_t>{0, jitter_ns}(st.rng);
  return o.interval + std::chrono::nanoseconds{extra};
}

void poll_done(self_ptr self, caf::expected<desired_state> result) {
  auto& st = self->state;
  st.polling = false;
  if (!result) {
    ++st.poll_failures;
    st.count("poll_failures");
    spdlog::warn("node.manager event=poll_failed failures={} error=\"{}\" effect=\"slivers kept "
                 "on the last snapshot\"",
                 st.poll_failures, describe(result.error()));
  } else {
    st.poll_failures = 0;
    if (result->node_bwlimit_kbps) {
      auto cap = st.logic->capacity();
      cap.net_cap_kbps = *result->node_bwlimit_kbps;
      st.logic->capacity(cap);
    }
    auto p = deliver(self, *result);
    if (!p) {
      ++st.poll_failures;
      st.count("poll_failures");
      spdlog::warn("node.manager event=poll_refused error=\"{}\"", describe(p.error()));
    } else {
      st.count("polls");
      st.last_sync = st.now();
      if (result->full && !p->stale)
        install_conf_files(self, std::move(result->conf_files));
    }
  }
  publish(self);
  // Interval 0 (push only): no periodic polls, only the start's and the
  // catch-up after each push connect, retried while they fail.
  if (st.cfg.poll.interval > caf::timespan{0} || st.poll_failures > 0)
    schedule_poll(self, next_poll_delay(self));
}

void start_poll(self_ptr self) {
  auto& st = self->state;
  if (!st.cfg.poll.fetch || st.polling)
    return;
  st.polling = true;
  if (!st.cfg.poll.detached) {
    poll_done(self, st.cfg.poll.fetch());
    return;
  }
  auto token = st.poll_token;
  self->spawn<caf::detached>([slot = st.slot, fetch = st.cfg.poll.fetch,
                              nm = caf::actor_cast<caf::actor>(self),
                              token](caf::event_based_actor* worker) {
    auto result = fetch();
    {
      std::lock_guard guard{slot->mutex};
      slot->result = std::move(result);
    }
    worker->send(nm, caf::update_atom_v, token);
  });
}

// -- push --------------------------------------------------------------------

void schedule_connect(self_ptr self) {
  auto& st = self->state;
  ++st.push_failures;
  auto delay = doubled(st.cfg.push.backoff_min, st.push_failures, st.cfg.push.backoff_max);
  self->delayed_send(self, delay, caf::connect_atom_v, ++st.push_token);
}

void push_failed(self_ptr self, const std::string& step, const caf::error& err) {
  auto& st = self->state;
  st.connecting = false;
  st.count("push_connect_failures");
  spdlog::warn("node.manager event=push_connect_failed step={} failures={} error=\"{}\"", step,
               st.push_failures + 1, describe(err));
  schedule_connect(self);
  publish(self);
}

void hello(self_ptr self, push_gateway_actor gw) {
  auto& st = self->state;
  self->request(gw, std::chrono::seconds(30), challenge_atom_v, st.cfg.node_id)
      .then(
          [self, gw](std::string& nonce) {
            auto& st = self->state;
            node_hello h{st.cfg.node_id, st.cfg.hostname, st.now(), std::move(nonce), {}};
            h.proof = push_proof(st.cfg.node_key, h);
            self->request(gw, std::chrono::seconds(30), hello_atom_v, std::move(h))
                .then(
                    [self, gw](caf::ok_atom) {
                      auto& st = self->state;
                      st.connecting = false;
                      st.connected = true;
                      st.gateway = gw;
                      st.push_failures = 0;
                      st.count("push_connects");
                      self->monitor(gw);
                      spdlog::info("node.manager event=push_connected node_id={}", st.cfg.node_id);
                      // Pushes carry changes only: catch up on what was
                      // missed while not connected.
                      start_poll(self);
                    },
                    [self](caf::error& err) { push_failed(self, "hello", err); });
          },
          [self](caf::error& err) { push_failed(self, "challenge", err); });
}

void connect_push(self_ptr self) {
  auto& st = self->state;
  if (!st.cfg.push.enabled || st.connected || st.connecting)
    return;
  st.connecting = true;
  if (st.cfg.push.gateway) {
    hello(self, *st.cfg.push.gateway);
    return;
  }
  auto& sys = self->home_system();
  caf::io::middleman_actor mm =
      st.cfg.push.tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  self->request(mm, std::chrono::seconds(30), caf::connect_atom_v, st.cfg.push.host,
                st.cfg.push.port)
      .then(
          [self](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            if (!ptr) {
              push_failed(self, "connect",
                          make_error(errc::not_connected, "no actor published there"));
              return;
            }
            hello(self, caf::actor_cast<push_gateway_actor>(std::move(ptr)));
          },
          [self](caf::error& err) { push_failed(self, "connect", err); });
}

// -- the local API -----------------------------------------------------------

caf::error may_act(const node_manager_state& st, const std::string& caller,
                   const std::string& target) {
  const auto* r = st.records.find(target);
  if (r == nullptr)
    return make_error(errc::unknown_sliver, target);
  if (caller == "root" || caller == target)
    return caf::none;
  const auto& d = r->spec.delegations;
  if (std::find(d.begin(), d.end(), caller) != d.end())
    return caf::none;
  return make_error(errc::permission_denied,
                    caller + " may not act on " + target + " (not in its delegations)");
}

node_status status_of(const node_manager_state& st) {
  node_status out;
  out.node_id = st.cfg.node_id;
  out.hostname = st.cfg.hostname;
  out.boot_state = st.cfg.boot_state;
  out.last_sync = st.last_sync;
  for (const auto& [name, r] : st.records.slivers)
    if (!r.removed())
      out.slivers.push_back({name, r.phase});
  for (const auto& [slice, reason] : st.refusals)
    out.refusals.push_back({slice, reason});
  out.counters = st.counters;
  out.counters["slivers"] = static_cast<std::int64_t>(out.slivers.size());
  out.counters["actions_pending"] = static_cast<std::int64_t>(st.queue.size()) + (st.busy ? 1 : 0);
  out.counters["push_connected"] = st.connected ? 1 : 0;
  std::int64_t loans = 0;
  for (const auto& [name, r] : st.records.slivers)
    if (!r.removed())
      loans += static_cast<std::int64_t>(r.loans.size());
  out.counters["loans"] = loans;
  if (st.caps) {
    std::int64_t capped = 0;
    for (const auto& [name, r] : st.caps->records()) {
      auto s = st.caps->status(name);
      if (r.retired || !s || !(s->capped || s->i2_capped))
        continue;
      ++capped;
      out.counters["byte_cap_kbps/" + name] = s->net_max_rate;
      out.counters["byte_cap_i2_kbps/" + name] = s->net_i2_max_rate;
      out.counters["byte_cap_sent/" + name] = s->sent;
    }
    out.counters["byte_capped_slices"] = capped;
  }
  if (st.cfg.conf_files.install) {
    out.counters["conf_files_failing"] = static_cast<std::int64_t>(st.conf_failures.size());
    for (const auto& [dest, why] : st.conf_failures)
      out.counters["conf_file_failed/" + dest] = 1;
  }
  return out;
}

/// Resumes the slivers of restored records: their resources go to the
/// (fresh) controllers again and running ones are started, both idempotent in
/// the drivers; then the records are reconciled as usual.
void resume(self_ptr self) {
  auto& st = self->state;
  std::vector<action> steps;
  for (const auto& [name, r] : st.records.slivers) {
    bool exists = r.phase == sliver_phase::created || r.phase == sliver_phase::running ||
                  r.phase == sliver_phase::stopped;
    if (!exists)
      continue;
    action a;
    a.kind = action_kind::set_rspec;
    a.sliver = name;
    a.effective = r.applied_rspec;
    a.reason = "resume after a restart";
    steps.push_back(a);
    if (r.phase == sliver_phase::running) {
      a.kind = action_kind::start;
      a.spec = r.applied_spec;
      steps.push_back(a);
    }
  }
  auto p = st.logic->refresh(st.records, st.now());
  st.records = std::move(p.records);
  st.dirty = true;
  persist(self);
  steps.insert(steps.end(), p.actions.begin(), p.actions.end());
  st.queue.assign(steps.begin(), steps.end());
  st.plan_generation += 1;
  st.count("resumed_steps",
           static_cast<std::int64_t>(steps.size()) - static_cast<std::int64_t>(p.actions.size()));
  st.run_started = st.cfg.clock->now();
  sync_sockets(self);
  run_queue(self);
}

template <class F>
auto on_target(self_ptr self, const std::string& caller, const std::string& target, F f)
    -> decltype(f(std::declval<sliver_record&>())) {
  if (auto err = may_act(self->state, caller, target))
    return err;
  return f(*self->state.records.find(target));
}

node_manager_impl_actor::behavior_type node_manager(self_ptr self, node_manager_config cfg,
                                                    node_records restored,
                                                    std::map<std::string, byte_cap_record> caps) {
  auto& st = self->state;
  if (cfg.byte_caps.read) {
    st.caps.emplace(*cfg.clock, cfg.byte_caps.window);
    st.caps->restore(std::move(caps));
  }
  st.logic.emplace(cfg.node_id, cfg.capacity);
  if (!cfg.records_file.empty())
    st.store.emplace(cfg.records_file);
  st.records = std::move(restored);
  st.rng.seed(cfg.poll.seed != 0 ? cfg.poll.seed : std::random_device{}());
  st.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.gateway && dm.source == caf::actor_cast<caf::actor_addr>(*st.gateway)) {
      st.connected = false;
      st.gateway.reset();
      st.count("push_disconnects");
      spdlog::warn("node.manager event=push_disconnected reason=\"{}\"", to_string(dm.reason));
      schedule_connect(self);
    }
  });
  resume(self);
  if (st.cfg.poll.fetch)
    schedule_poll(self, caf::timespan{0});
  if (st.cfg.push.enabled)
    self->send(self, caf::connect_atom_v, st.push_token);
  self->delayed_send(self, st.cfg.maintenance, caf::timeout_atom_v, std::uint64_t{0});
  if (st.caps)
    self->send(self, caf::flush_atom_v, st.cap_token);
  publish(self);
  return {
      // -- from PLC ------------------------------------------------------------
      [self](snapshot_atom, const sliver_snapshot& s) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        auto d = from_snapshot(s);
        if (!d)
          return d.error();
        auto p = deliver(self, *d);
        if (!p)
          return p.error();
        st.count("pushes");
        st.last_sync = st.now();
        return caf::ok_atom_v;
      },
      [self](revoke_atom, const std::string& name,
             std::int64_t timestamp) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        st.count("revocations");
        if (st.cfg.hooks.revoked) {
          // Tickets of the slice end with the slice at the latest.
          std::int64_t latest = timestamp + st.cfg.ticket_lifetime.count();
          if (auto r = st.records.slivers.find(name);
              r != st.records.slivers.end() && r->second.spec.expires > 0)
            latest = r->second.spec.expires;
          st.cfg.hooks.revoked(name, timestamp, latest);
        }
        spdlog::info("node.manager event=revoked slice={} at={}", name, timestamp);
        if (revoke(st.records, name, timestamp))
          refresh(self);
        publish(self);
        return caf::ok_atom_v;
      },
      [self](status_atom) { return status_of(self->state); },
      // -- the local API ---------------------------------------------------------
      [self](redeem_atom, const ticket& t) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        desired_state d;
        d.source = origin::ticket;
        d.full = false;
        d.node_id = st.cfg.node_id;
        d.timestamp = t.issued;
        d.slivers = {t.sliver};
        d.slivers.front().resources = complete_rspec(t.sliver.resources);
        if (d.slivers.front().node_id == 0)
          d.slivers.front().node_id = st.cfg.node_id;
        auto p = deliver(self, d);
        if (!p)
          return p.error();
        for (const auto& r : p->refusals)
          if (r.slice == t.sliver.name)
            return make_error(errc::admission_refused, r.slice + ": " + r.reason);
        st.count("tickets");
        return caf::ok_atom_v;
      },
      [self](create_atom, const std::string& caller,
             const std::string& target) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        if (auto err = may_act(st, caller, target))
          return err;
        auto p = st.logic->instantiate(st.records, target, st.now());
        if (!p) {
          st.refusals[target] = describe(p.error());
          return p.error();
        }
        adopt(self, std::move(*p));
        return caf::ok_atom_v;
      },
      [self](destroy_atom, const std::string& caller,
             const std::string& target) -> caf::result<caf::ok_atom> {
        return on_target(self, caller, target, [&](sliver_record& r) -> caf::result<caf::ok_atom> {
          if (r.spec.instantiation != "delegated")
            return make_error(errc::permission_denied,
                              target + " is " + r.spec.instantiation +
                                  ": only delegated slivers are destroyed through the node");
          r.instantiated = false;
          refresh(self);
          return caf::ok_atom_v;
        });
      },
      [self](start_atom, const std::string& caller,
             const std::string& target) -> caf::result<caf::ok_atom> {
        return on_target(self, caller, target, [&](sliver_record& r) -> caf::result<caf::ok_atom> {
          r.held = false;
          refresh(self);
          return caf::ok_atom_v;
        });
      },
      [self](stop_atom, const std::string& caller,
             const std::string& target) -> caf::result<caf::ok_atom> {
        return on_target(self, caller, target, [&](sliver_record& r) -> caf::result<caf::ok_atom> {
          r.held = true;
          refresh(self);
          return caf::ok_atom_v;
        });
      },
      [self](rspec_atom, const std::string& caller,
             const std::string& target) -> caf::result<rspec> {
        return on_target(self, caller, target,
                         [&](sliver_record& r) -> caf::result<rspec> { return r.spec.resources; });
      },
      [self](effective_atom, const std::string& caller,
             const std::string& target) -> caf::result<rspec> {
        return on_target(self, caller, target, [&](sliver_record&) -> caf::result<rspec> {
          return effective_rspecs(self->state.records).at(target);
        });
      },
      [self](loans_atom, const std::string& caller,
             const std::string& target) -> caf::result<std::vector<loan>> {
        return on_target(
            self, caller, target,
            [&](sliver_record& r) -> caf::result<std::vector<loan>> { return r.loans; });
      },
      [self](loans_atom, const std::string& caller, const std::string& target,
             std::vector<loan>& loans) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        if (auto err = may_act(st, caller, target))
          return err;
        auto p = st.logic->set_loans(st.records, target, std::move(loans), st.now());
        if (!p)
          return p.error();
        st.count("loan_changes");
        adopt(self, std::move(*p));
        return caf::ok_atom_v;
      },
      [self](caf::get_atom) {
        std::vector<sliver_spec> out;
        for (const auto& [name, r] : self->state.records.slivers)
          if (!r.removed())
            out.push_back(r.spec);
        return out;
      },
      [self](caf::get_atom, const std::string& name) -> caf::result<sliver_spec> {
        if (const auto* r = self->state.records.find(name))
          return r->spec;
        return make_error(errc::unknown_sliver, name);
      },
      // -- own timers -------------------------------------------------------------
      [self](caf::tick_atom, std::uint64_t token) {
        if (token == self->state.poll_token)
          start_poll(self);
      },
      [self](caf::update_atom, std::uint64_t) {
        auto& st = self->state;
        std::optional<caf::expected<desired_state>> result;
        {
          std::lock_guard guard{st.slot->mutex};
          result.swap(st.slot->result);
        }
        if (result)
          poll_done(self, std::move(*result));
      },
      [self](caf::connect_atom, std::uint64_t token) {
        if (token == self->state.push_token)
          connect_push(self);
      },
      [self](caf::flush_atom, std::uint64_t token) {
        if (token == self->state.cap_token)
          read_counters(self);
      },
      [self](caf::receive_atom, std::uint64_t) {
        auto& st = self->state;
        std::optional<caf::expected<std::map<std::string, tx_counters>>> result;
        {
          std::lock_guard guard{st.tx->mutex};
          result.swap(st.tx->result);
        }
        if (result)
          caps_read_done(self, std::move(*result));
      },
      [self](caf::close_atom, std::uint64_t) {
        auto& st = self->state;
        std::optional<std::vector<conf_file_report>> result;
        {
          std::lock_guard guard{st.conf->mutex};
          result.swap(st.conf->result);
        }
        if (result)
          conf_done(self, std::move(*result));
      },
      [self](caf::timeout_atom, std::uint64_t token) {
        auto& st = self->state;
        if (token == 0) {
          // Maintenance: expiry and anything left undone.
          self->delayed_send(self, st.cfg.maintenance, caf::timeout_atom_v, std::uint64_t{0});
          if (!st.busy && st.queue.empty())
            refresh(self);
        } else if (token == st.retry_token && !st.busy && st.queue.empty()) {
          st.count("retries");
          refresh(self);
        }
      },
  };
}

} // namespace

caf::expected<node_manager_actor> spawn_node_manager(caf::actor_system& sys,
                                                     node_manager_config cfg) {
  if (cfg.node_id <= 0)
    return make_error(errc::invalid_argument, "node manager: no node id");
  if (cfg.clock == nullptr)
    return make_error(errc::invalid_argument, "node manager: no clock");
  if (cfg.push.enabled && cfg.node_key.empty())
    return make_error(errc::invalid_argument, "node manager: push needs the node key");
  if (cfg.push.enabled && !cfg.push.gateway && (cfg.push.host.empty() || cfg.push.port == 0))
    return make_error(errc::invalid_argument, "node manager: push needs host and port");
  node_records restored;
  if (!cfg.records_file.empty()) {
    auto loaded = record_store{cfg.records_file}.load();
    if (!loaded)
      return loaded.error();
    if (*loaded)
      restored = std::move(**loaded);
  }
  for (auto& [name, r] : restored.slivers)
    if (r.spec.node_id != 0 && r.spec.node_id != cfg.node_id)
      return make_error(errc::invalid_argument,
                        cfg.records_file.string() + " holds sliver " + name + " of node " +
                            std::to_string(r.spec.node_id) + ", this is node " +
                            std::to_string(cfg.node_id));
  std::map<std::string, byte_cap_record> caps;
  if (cfg.byte_caps.read && !cfg.byte_caps.state_file.empty()) {
    auto loaded = load_caps(cfg.byte_caps.state_file);
    if (!loaded)
      return loaded.error();
    caps = std::move(*loaded);
  }
  cfg.slivers.timeout = cfg.action_timeout;
  auto nm = sys.spawn(node_manager, std::move(cfg), std::move(restored), std::move(caps));
  return caf::actor_cast<node_manager_actor>(nm);
}

} // namespace pl::node
