#include "node/node_manager.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>

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
  }
  run_queue(self);
}

void run_queue(self_ptr self) {
  auto& st = self->state;
  if (st.busy)
    return;
  if (st.queue.empty()) {
    persist(self);
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
    self->request(s, timeout, effective_atom_v, a.effective).then(on_ok, on_err);
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
  if (st.poll_failures > 0)
    return std::min(doubled(o.backoff_min, st.poll_failures, o.backoff_max), o.interval);
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
    }
  }
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
                                                    node_records restored) {
  auto& st = self->state;
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
        if (revoke(st.records, name, timestamp))
          refresh(self);
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
  cfg.slivers.timeout = cfg.action_timeout;
  auto nm = sys.spawn(node_manager, std::move(cfg), std::move(restored));
  return caf::actor_cast<node_manager_actor>(nm);
}

} // namespace pl::node
