#include "node/reconciler.hpp"

#include <algorithm>
#include <set>

#include "actors/errors.hpp"
#include "actors/resources.hpp"

namespace pl::node {

namespace {

bool exists(sliver_phase p) {
  return p == sliver_phase::created || p == sliver_phase::running || p == sliver_phase::stopped;
}

// A failed sliver may hold a half-made container: destroy must clean it up,
// and create (idempotent in the drivers) makes it whole.
bool may_exist(sliver_phase p) {
  return exists(p) || p == sliver_phase::failed;
}

bool wanted(const sliver_record& r) {
  return !r.removed() && r.instantiated && r.spec.instantiation != "not-instantiated";
}

// Says whether the node has promised the sliver its resources: it is (or
// is about to be) instantiated and alive.
bool counted(const sliver_record& r, std::int64_t now) {
  if (r.removed() || r.spec.expires < now)
    return false;
  const auto& inst = r.spec.instantiation;
  return inst == "plc-instantiated" || inst == "nm-controller" ||
         (inst == "delegated" && r.instantiated);
}

// The promises of every counted record except those in `skip`.
std::map<std::string, rspec> promised(const node_records& records, std::int64_t now,
                                      const std::set<std::string>& skip = {}) {
  std::map<std::string, rspec> result;
  for (const auto& [name, r] : records.slivers)
    if (!skip.count(name) && counted(r, now))
      result.emplace(name, r.spec.resources);
  return result;
}

// What PLC gave each live sliver, and each live sliver's loans.
void loan_inputs(const node_records& records, std::map<std::string, rspec>& given,
                 std::map<std::string, std::vector<loan>>& loans) {
  for (const auto& [name, r] : records.slivers) {
    if (r.removed())
      continue;
    given.emplace(name, r.spec.resources);
    if (!r.loans.empty())
      loans.emplace(name, r.loans);
  }
}

// The fields the container is made from; a change needs a configure.
bool container_differs(const sliver_spec& a, const sliver_spec& b) {
  return a.slice_id != b.slice_id || a.keys != b.keys || a.vref != b.vref ||
         a.initscript != b.initscript || a.attributes != b.attributes;
}

// What a container is made from: the spec without its rspec, which reaches
// the resource controllers through set_rspec. The actions, the applied
// record and the sliver actor hold this, not a copy of the rspec each.
sliver_spec container_spec(const sliver_spec& s) {
  auto out = s;
  out.resources = {};
  return out;
}

action make_action(action_kind kind, const std::string& name, std::string reason) {
  action a;
  a.kind = kind;
  a.sliver = name;
  a.reason = std::move(reason);
  return a;
}

std::string create_reason(const sliver_record& r) {
  if (r.phase == sliver_phase::failed)
    return "retry after a failure";
  if (r.spec.instantiation == "delegated")
    return "delegated sliver instantiated by Ticket or Create";
  return "new " + r.spec.instantiation + " sliver";
}

// Normalises the records, then derives the actions. `p.records` holds the
// records on entry.
void derive(plan& p, std::int64_t now) {
  auto& recs = p.records.slivers;
  for (auto& [name, r] : recs) {
    if (r.removed())
      continue;
    if (r.spec.expires < now)
      r.removal = "expired";
    else if (r.spec.instantiation == "plc-instantiated" || r.spec.instantiation == "nm-controller")
      r.instantiated = true;
    else if (r.spec.instantiation == "not-instantiated")
      r.instantiated = false;
  }
  // Removed records that never got a container go at once.
  for (auto i = recs.begin(); i != recs.end();) {
    if (i->second.removed() && !may_exist(i->second.phase))
      i = recs.erase(i);
    else
      ++i;
  }
  for (const auto& [name, r] : recs) {
    if (!may_exist(r.phase) || wanted(r))
      continue;
    std::string why = r.removed()                                  ? r.removal
                      : r.spec.instantiation == "not-instantiated" ? "not instantiated"
                                                                   : "destroyed through Destroy";
    p.actions.push_back(make_action(action_kind::destroy, name, std::move(why)));
  }
  auto effective = effective_rspecs(p.records, &p.inactive_loans);
  for (const auto& [name, r] : recs) {
    if (!wanted(r))
      continue;
    auto phase = r.phase;
    if (!exists(phase)) {
      auto a = make_action(action_kind::create, name, create_reason(r));
      a.spec = container_spec(r.spec);
      p.actions.push_back(std::move(a));
      phase = sliver_phase::created;
    } else if (container_differs(r.spec, r.applied_spec)) {
      auto a = make_action(action_kind::configure, name, "spec changed");
      a.spec = container_spec(r.spec);
      p.actions.push_back(std::move(a));
    }
    const auto& eff = effective.at(name);
    if (!exists(r.phase) || eff != r.applied_rspec) {
      auto a = make_action(action_kind::set_rspec, name,
                           exists(r.phase) ? "effective rspec changed" : "initial rspec");
      a.effective = eff;
      p.actions.push_back(std::move(a));
    }
    bool run = r.spec.enabled && !r.held;
    if (phase == sliver_phase::running && !r.spec.enabled) {
      p.actions.push_back(make_action(action_kind::suspend, name, "disabled (enabled=0)"));
    } else if (phase == sliver_phase::running && r.held) {
      p.actions.push_back(make_action(action_kind::stop, name, "stopped through Stop"));
    } else if (run && phase != sliver_phase::running) {
      auto a = make_action(action_kind::start, name,
                           phase == sliver_phase::created ? "first start" : "start");
      a.spec = container_spec(r.spec);
      p.actions.push_back(std::move(a));
    } else if (run && !r.spec.initscript.empty() && r.spec.initscript != r.initscript_ran) {
      auto a = make_action(action_kind::run_initscript, name, "initscript changed");
      a.spec = container_spec(r.spec);
      p.actions.push_back(std::move(a));
    }
  }
}

} // namespace

std::string to_string(action_kind x) {
  switch (x) {
  case action_kind::destroy:
    return "destroy";
  case action_kind::create:
    return "create";
  case action_kind::configure:
    return "configure";
  case action_kind::set_rspec:
    return "set_rspec";
  case action_kind::suspend:
    return "suspend";
  case action_kind::stop:
    return "stop";
  case action_kind::start:
    return "start";
  case action_kind::run_initscript:
    return "run_initscript";
  }
  return "unknown";
}

const sliver_record* node_records::find(const std::string& name) const {
  auto i = slivers.find(name);
  return i == slivers.end() || i->second.removed() ? nullptr : &i->second;
}

sliver_record* node_records::find(const std::string& name) {
  auto i = slivers.find(name);
  return i == slivers.end() || i->second.removed() ? nullptr : &i->second;
}

std::map<std::string, rspec> effective_rspecs(const node_records& records,
                                              std::vector<loan_problem>* inactive) {
  std::map<std::string, rspec> given;
  std::map<std::string, std::vector<loan>> loans;
  loan_inputs(records, given, loans);
  auto outcome = apply_loans(given, loans);
  for (auto& [name, eff] : outcome.effective)
    for (const auto& [resource, value] : records.slivers.at(name).overrides)
      if (is_resource(resource))
        eff.values[resource] = value;
  if (inactive != nullptr)
    *inactive = std::move(outcome.inactive);
  return std::move(outcome.effective);
}

caf::expected<plan> reconciler::apply(const desired_state& desired, const node_records& records,
                                      std::int64_t now) const {
  if (desired.node_id != node_id_)
    return make_error(errc::invalid_argument, "desired state for node " +
                                                  std::to_string(desired.node_id) +
                                                  ", this is node " + std::to_string(node_id_));
  // A ticket is often issued before the node's last poll and redeemed after
  // it: it still instantiates the record that poll brought (as the
  // original's Create after deliver_ticket did), so it is judged per sliver.
  bool older = desired.timestamp < records.min_timestamp;
  if (older && desired.source != origin::ticket) {
    auto p = refresh(records, now);
    p.stale = true;
    return p;
  }
  plan p;
  p.records = records;
  auto& recs = p.records.slivers;
  std::set<std::string> listed;
  for (const auto& spec : desired.slivers) {
    listed.insert(spec.name);
    if (older) {
      auto* known = p.records.find(spec.name);
      if (known == nullptr) {
        p.refusals.push_back(
            {spec.name, "ticket older than the last full snapshot, which no longer lists it"});
        continue;
      }
    }
    auto [i, added] = recs.try_emplace(spec.name);
    auto& r = i->second;
    // Timestamps are whole seconds. PLC pushes a slice's changes in order from one
    // slice actor, so a push as old as the record is the later change (two changes
    // within a second); a poll or ticket as old as the record is not.
    bool newer = desired.timestamp > r.timestamp ||
                 (desired.source == origin::push && desired.timestamp == r.timestamp);
    if (added || newer) {
      if (r.removed()) {
        // PLC wants it again: a new record over what still exists locally.
        sliver_record fresh;
        fresh.phase = r.phase;
        fresh.applied_spec = std::move(r.applied_spec);
        fresh.applied_rspec = std::move(r.applied_rspec);
        fresh.initscript_ran = std::move(r.initscript_ran);
        r = std::move(fresh);
      }
      r.spec = spec;
      r.timestamp = desired.timestamp;
    }
    // Redeeming a ticket instantiates even when GetSlivers already brought a
    // newer spec (GetSlivers lists delegated slices on every node).
    if (desired.source == origin::ticket && !r.removed())
      r.instantiated = true;
  }
  for (const auto& bad : desired.invalid) {
    listed.insert(bad.slice);
    p.refusals.push_back(bad);
  }
  if (desired.full) {
    for (auto& [name, r] : recs)
      if (!r.removed() && !listed.count(name) && r.timestamp < desired.timestamp)
        r.removal = "not in PLC's full snapshot";
    p.records.min_timestamp = desired.timestamp;
  }
  // Admission: deliveries that raise promises are checked against what the
  // node holds, in name order; held slivers keep their current promise.
  std::set<std::string> raising;
  for (const auto& spec : desired.slivers) {
    auto i = recs.find(spec.name);
    if (i == recs.end() || !counted(i->second, now))
      continue;
    const auto* before = records.find(spec.name);
    if (before == nullptr || !counted(*before, now) ||
        promises_more(before->spec.resources, i->second.spec.resources))
      raising.insert(spec.name);
  }
  auto held = promised(p.records, now, raising);
  for (const auto& name : raising) {
    if (const auto* before = records.find(name); before && counted(*before, now))
      held[name] = before->spec.resources;
    auto why = admission_.check(name, recs.at(name).spec.resources, held);
    if (!why) {
      held[name] = recs.at(name).spec.resources;
      continue;
    }
    p.refusals.push_back({name, "admission refused: " + *why});
    if (auto old = records.slivers.find(name); old != records.slivers.end())
      recs[name] = old->second;
    else
      recs.erase(name);
  }
  std::sort(p.refusals.begin(), p.refusals.end(),
            [](const auto& a, const auto& b) { return a.slice < b.slice; });
  derive(p, now);
  return p;
}

caf::expected<plan> reconciler::instantiate(const node_records& records, const std::string& name,
                                            std::int64_t now) const {
  if (records.find(name) == nullptr)
    return make_error(errc::unknown_sliver, name);
  auto copy = records;
  auto& r = *copy.find(name);
  bool was = counted(r, now);
  r.instantiated = true;
  if (!was && counted(r, now)) {
    if (auto why = admission_.check(name, r.spec.resources, promised(records, now)))
      return make_error(errc::admission_refused, name + ": " + *why);
  }
  return refresh(copy, now);
}

plan reconciler::refresh(const node_records& records, std::int64_t now) const {
  plan p;
  p.records = records;
  derive(p, now);
  return p;
}

caf::expected<plan> reconciler::set_loans(const node_records& records, const std::string& lender,
                                          std::vector<loan> loans, std::int64_t now) const {
  if (records.find(lender) == nullptr)
    return make_error(errc::unknown_sliver, lender);
  for (auto& l : loans)
    if (l.from.empty())
      l.from = lender;
  std::map<std::string, rspec> given;
  std::map<std::string, std::vector<loan>> current;
  loan_inputs(records, given, current);
  if (auto err = check_loans(lender, loans, given, current))
    return err;
  auto copy = records;
  copy.find(lender)->loans = std::move(loans);
  return refresh(copy, now);
}

bool revoke(node_records& records, const std::string& name, std::int64_t timestamp) {
  auto* r = records.find(name);
  if (r == nullptr || r->timestamp > timestamp)
    return false;
  r->removal = "revoked";
  return true;
}

void record_done(node_records& records, const action& a) {
  auto i = records.slivers.find(a.sliver);
  if (i == records.slivers.end())
    return;
  auto& r = i->second;
  switch (a.kind) {
  case action_kind::destroy:
    if (r.removed()) {
      records.slivers.erase(i);
      return;
    }
    r.phase = sliver_phase::pending;
    r.applied_spec = {};
    r.applied_rspec = {};
    r.initscript_ran.clear();
    return;
  case action_kind::create:
  case action_kind::configure:
    if (a.kind == action_kind::create)
      r.phase = sliver_phase::created;
    r.applied_spec = a.spec;
    if (a.spec.initscript.empty())
      r.initscript_ran.clear();
    return;
  case action_kind::set_rspec:
    r.applied_rspec = a.effective;
    return;
  case action_kind::suspend:
  case action_kind::stop:
    r.phase = sliver_phase::stopped;
    return;
  case action_kind::start:
    r.phase = sliver_phase::running;
    r.initscript_ran = a.spec.initscript;
    return;
  case action_kind::run_initscript:
    r.initscript_ran = a.spec.initscript;
    return;
  }
}

void record_failed(node_records& records, const action& a) {
  auto i = records.slivers.find(a.sliver);
  if (i == records.slivers.end())
    return;
  if (a.kind == action_kind::create || a.kind == action_kind::start)
    i->second.phase = sliver_phase::failed;
}

} // namespace pl::node
