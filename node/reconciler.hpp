#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/records.hpp"
#include "node/admission.hpp"
#include "node/desired_state.hpp"
#include "node/loans.hpp"

// Reconciliation: desired state + local records -> new records + actions.
// Push, poll, tickets and the local API all end here (ARCHITECTURE.md, "Two
// transports, one model"). Plain logic: no actors, no clock, no I/O.

namespace pl::node {

/// Holds what the node manager knows about one sliver (persisted).
///
/// `spec` and `timestamp` come from PLC or a ticket and are replaced by each
/// newer delivery. The local fields (node manager 1.5's `_` keys) survive
/// deliveries. The `applied_*` fields and `phase` say what has been done; only
/// `record_done` and `record_failed` change them.
struct sliver_record {
  /// The desired spec as last delivered; `spec.resources` is PLC's rspec.
  sliver_spec spec;
  /// The time of the delivery that set `spec`.
  std::int64_t timestamp = 0;

  /// Says the node wants the sliver to exist: always for plc-instantiated and
  /// nm-controller slivers; for delegated ones only after Ticket or Create,
  /// until Destroy.
  bool instantiated = false;
  /// Says the sliver was stopped through the local API (or by an
  /// administrator): it is not started again until Start.
  bool held = false;
  /// The loans this sliver gives (each `from` is the sliver's name).
  std::vector<loan> loans;
  /// Administrator overrides (resource -> value), set with resman: they win
  /// over PLC's values and loans until reset.
  std::map<std::string, std::int64_t> overrides;
  /// Says why PLC no longer wants the sliver (`expired`, `revoked`, `not in
  /// PLC's full snapshot`); empty while it does. A removed record stays until
  /// its destroy is done.
  std::string removal;

  sliver_phase phase = sliver_phase::pending;
  /// The spec the container was last created or configured with (without
  /// `resources`: `applied_rspec` is what the controllers hold).
  sliver_spec applied_spec;
  /// The effective rspec last handed to the resource controllers.
  rspec applied_rspec;
  /// The initscript last run (by a start or a run_initscript).
  std::string initscript_ran;

  /// Returns whether PLC no longer wants the sliver.
  bool removed() const { return !removal.empty(); }

  friend bool operator==(const sliver_record&, const sliver_record&) = default;
};

/// Holds the node's record set (persisted as a whole).
struct node_records {
  /// The timestamp of the last full snapshot applied; older deliveries are
  /// ignored (node manager 1.5's `_min_timestamp`).
  std::int64_t min_timestamp = 0;
  std::map<std::string, sliver_record> slivers;

  /// Returns the live (not removed) record of `name`, or `nullptr`.
  const sliver_record* find(const std::string& name) const;
  sliver_record* find(const std::string& name);

  friend bool operator==(const node_records&, const node_records&) = default;
};

/// Names one step the node manager must take.
enum class action_kind : std::uint8_t {
  /// Tear the sliver down and release its resources.
  destroy,
  /// Create the container from `spec` (keys, initscript, vref).
  create,
  /// Update an existing container to `spec` (keys, initscript, vref changed).
  configure,
  /// Hand `effective` to the resource controllers.
  set_rspec,
  /// Stop because PLC disabled the sliver (`enabled` = 0).
  suspend,
  /// Stop because of the local API (Stop) or an administrator.
  stop,
  /// Start the sliver (its initscript runs as part of the start).
  start,
  /// Run the changed initscript of a running sliver.
  run_initscript,
};

/// Returns the kind's name, e.g. `set_rspec`.
std::string to_string(action_kind x);

/// Describes one step: what, on which sliver, with what, and why.
struct action {
  action_kind kind = action_kind::create;
  std::string sliver;
  /// The spec for create and configure (and the initscript for start and
  /// run_initscript), without `resources` (set_rspec carries those).
  sliver_spec spec;
  /// The effective rspec for set_rspec.
  rspec effective;
  /// Says why, for logs and status, e.g. `expired`.
  std::string reason;

  friend bool operator==(const action&, const action&) = default;
};

/// Holds the outcome of one reconciliation.
struct plan {
  /// The new record set, to persist before acting.
  node_records records;
  /// Steps in a deterministic order: every destroy first (freeing resources),
  /// then per sliver in name order create, configure, set_rspec,
  /// suspend/stop, start, run_initscript.
  std::vector<action> actions;
  /// Slivers of the delivery that were not applied, with the reason (an
  /// unusable attribute, admission, a ticket older than the last full
  /// snapshot for a slice it no longer lists).
  std::vector<admission_refusal> refusals;
  /// Loans that do not take effect (e.g. their target is gone, or PLC now
  /// gives the lender less), for status and logs.
  std::vector<loan_problem> inactive_loans;
  /// True when the delivery was older than the last full snapshot and was
  /// ignored (the actions then only continue the current records).
  bool stale = false;
};

/// Turns desired state plus local records into new records and actions.
///
/// Rules (issue #6 point 3; node manager 1.5's `database.py` and `sm.py`):
/// - A delivery older than the last full snapshot changes nothing, except
///   that a ticket still instantiates a record that snapshot holds (a ticket
///   for a slice the snapshot no longer lists is refused). A sliver's
///   spec is replaced only by a strictly newer delivery; local fields
///   (instantiated, held, loans, overrides) are kept.
/// - A full snapshot drops every record it does not list whose timestamp is
///   older than the snapshot (GetSlivers lists delegated and nm-controller
///   slices on every node, so those survive). A sliver listed as invalid
///   keeps its record unchanged and is reported in `refusals`.
/// - plc-instantiated and nm-controller slivers are created automatically;
///   delegated ones only once a ticket delivered them or Create was called
///   (`instantiated`); not-instantiated ones are destroyed if they exist.
/// - Records whose `expires` lies before `now` are removed.
/// - `enabled` = 0 suspends; enabled again starts (unless `held`).
/// - A running sliver whose initscript changed runs the new one.
/// - The effective rspec is PLC's rspec minus what the sliver lends plus what
///   it borrows (`apply_loans`), then administrator overrides, which win
///   until they are reset.
/// - Admission: a delivered sliver that would raise the node's promises
///   beyond its capacity (see `admission`) is refused as a whole: its record
///   stays as it was (a new one is not kept) and `refusals` says why.
///   Slivers the node already holds are counted first, then deliveries in
///   name order; removals in the same delivery free their share first.
class reconciler {
public:
  explicit reconciler(std::int32_t node_id, node_capacity capacity = {})
      : node_id_(node_id)
      , admission_(capacity) {}

  std::int32_t node_id() const { return node_id_; }

  const node_capacity& capacity() const { return admission_.capacity(); }

  /// Changes the capacity (e.g. to GetSlivers' bwlimit); slivers already held
  /// are kept, only later growth is checked against it.
  void capacity(node_capacity x) { admission_.capacity(x); }

  /// Applies a delivery. Errors (nothing changes): the state is for another
  /// node (`errc::invalid_argument`).
  caf::expected<plan> apply(const desired_state& desired, const node_records& records,
                            std::int64_t now) const;

  /// Reconciles the records alone: after a local-API call, a loan or an
  /// override changed them, after an action failed, or as time passes
  /// (expiry).
  plan refresh(const node_records& records, std::int64_t now) const;

  /// Instantiates sliver `name` (the local API's Create, which acts on
  /// delegated slivers) and reconciles. Errors (nothing changes):
  /// `errc::unknown_sliver`, `errc::admission_refused` with the reason.
  caf::expected<plan> instantiate(const node_records& records, const std::string& name,
                                  std::int64_t now) const;

  /// Replaces the loans of sliver `lender` (the local API's SetLoans; each
  /// loan's `from` is set to `lender`) and reconciles. Errors (nothing
  /// changes): `errc::unknown_sliver` and those of `check_loans`.
  caf::expected<plan> set_loans(const node_records& records, const std::string& lender,
                                std::vector<loan> loans, std::int64_t now) const;

private:
  std::int32_t node_id_;
  admission admission_;
};

/// Marks `name` removed when PLC revokes it, unless a delivery newer than
/// `timestamp` keeps it. Returns whether the record changed.
bool revoke(node_records& records, const std::string& name, std::int64_t timestamp);

/// Records that `a` completed: phase, applied spec and rspec, initscript.
/// A completed destroy erases a removed record (else the record stays,
/// phase pending).
void record_done(node_records& records, const action& a);

/// Records that `a` failed: a failed create or start sets phase `failed`
/// (the next reconciliation retries); other steps stay undone and are
/// retried as they are.
void record_failed(node_records& records, const action& a);

/// Returns the effective rspec of every live record: PLC's rspec with loans
/// applied, then the record's overrides. Loans that do not take effect go to
/// `inactive` when given.
std::map<std::string, rspec> effective_rspecs(const node_records& records,
                                              std::vector<loan_problem>* inactive = nullptr);

} // namespace pl::node
