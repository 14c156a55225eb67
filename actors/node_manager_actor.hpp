#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace pl {

/// Reconciles a node's desired and actual slivers and serves its local API
/// (node).
///
/// From PLC (push link) or the GetSlivers poller:
/// - `snapshot` applies desired state (full or partial, see `sliver_snapshot`);
///   a snapshot older than the last one applied changes nothing.
/// - `revoke` removes sliver `name` unless a newer snapshot (timestamp) keeps it.
/// - `status` returns the node's report.
///
/// Local API (the original node manager's methods); the first string is the
/// calling sliver (or `root`), the second the target sliver. The caller must be
/// the target, be listed in its delegations, or be root, else
/// `errc::permission_denied`; an unknown target gives `errc::unknown_sliver`.
/// - `redeem` = Ticket(ticket): verify, then the same reconcile path.
/// - `create`, `destroy`, `start`, `stop` = Create, Destroy, Start, Stop.
/// - `rspec` = GetRSpec (from PLC), `effective` = GetEffectiveRSpec (with loans).
/// - `loans` with two strings = GetLoans; with a loan list = SetLoans, which
///   replaces the target's loans and fails with `errc::not_loanable` or
///   `errc::insufficient_allocation` without changing anything.
/// - `get` returns the specs of the live slivers the node holds (name order),
///   `get, name` one of them (`errc::unknown_sliver`): PLC's spec with its
///   delegations, keys and instantiation. The local API server (node/local_api)
///   reads them to decide who may call what (it checks before it asks, as the
///   original's dispatcher did), for GetSSHKeys and for GetRecord.
///
/// The local API server verifies a ticket completely (signature, validity,
/// node, revocations, replay: node/ticket_desk) before it sends `redeem`;
/// `ticket::sliver` then holds the sliver as `node::from_ticket` reads it, and
/// the node manager reconciles it like a partial snapshot (a delegated sliver
/// becomes instantiated). The nonce is recorded only after `redeem` succeeds.
using node_manager_actor = caf::typed_actor<
    caf::replies_to<snapshot_atom, sliver_snapshot>::with<caf::ok_atom>,
    caf::replies_to<revoke_atom, std::string, std::int64_t>::with<caf::ok_atom>,
    caf::replies_to<status_atom>::with<node_status>,
    caf::replies_to<redeem_atom, ticket>::with<caf::ok_atom>,
    caf::replies_to<create_atom, std::string, std::string>::with<caf::ok_atom>,
    caf::replies_to<destroy_atom, std::string, std::string>::with<caf::ok_atom>,
    caf::replies_to<start_atom, std::string, std::string>::with<caf::ok_atom>,
    caf::replies_to<stop_atom, std::string, std::string>::with<caf::ok_atom>,
    caf::replies_to<rspec_atom, std::string, std::string>::with<rspec>,
    caf::replies_to<effective_atom, std::string, std::string>::with<rspec>,
    caf::replies_to<loans_atom, std::string, std::string>::with<std::vector<loan>>,
    caf::replies_to<loans_atom, std::string, std::string, std::vector<loan>>::with<caf::ok_atom>,
    caf::replies_to<caf::get_atom>::with<std::vector<sliver_spec>>,
    caf::replies_to<caf::get_atom, std::string>::with<sliver_spec>>;

} // namespace pl
