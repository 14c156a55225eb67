#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "actors/errors.hpp"
#include "actors/records.hpp"

// Loans (issue #6 point 7; node manager 1.5's `database.py`): a sliver lends
// part of what PLC gave it to another sliver on the same node. Plain logic.

namespace pl::node {

/// Describes a loan that does not take effect, and why.
struct loan_problem {
  /// The sliver whose loan list holds it.
  std::string lender;
  loan item;
  errc code = errc::invalid_argument;
  std::string reason;

  friend bool operator==(const loan_problem&, const loan_problem&) = default;
};

/// Holds every sliver's rspec after loans.
struct loan_outcome {
  /// Per sliver: PLC's rspec (complete) minus what it lends plus what it
  /// borrows.
  std::map<std::string, rspec> effective;
  /// Loans that did not take effect (their lender keeps them; they may take
  /// effect later, e.g. when their target arrives).
  std::vector<loan_problem> inactive;
};

/// Applies loans to the rspecs PLC gave (`given`, one entry per sliver on the
/// node).
///
/// As node manager 1.5: lenders in name order, each lender's loans in its
/// order; a sliver lends only what PLC gave it (what it borrowed cannot be
/// lent on), and keeps at least the resource's loan minimum
/// (`resource_info::loan_minimum`). A loan takes effect only when its
/// resource is loanable, its amount is not negative, its target is another
/// sliver on the node, the lender can afford it and the target stays within
/// the resource table's range. Others are reported in `inactive` (1.5
/// dropped them silently).
loan_outcome apply_loans(const std::map<std::string, rspec>& given,
                         const std::map<std::string, std::vector<loan>>& loans);

/// Checks `lender`'s new loan list (SetLoans) before it replaces the old one:
/// every loan must take effect. Returns the first problem: `errc::unknown_sliver`
/// (lender or target not on the node), `errc::not_loanable`,
/// `errc::insufficient_allocation` (the loans would overdraw what PLC gave it
/// or leave less than the minimum), `errc::out_of_range` (the target would
/// exceed the table's maximum), `errc::invalid_argument` (a negative amount,
/// a loan to itself, a `from` naming another sliver), or the problem the
/// proposal causes to another lender's loan that took effect before (both
/// borrowing up to a resource's maximum). `loans` holds every sliver's
/// current loans.
caf::error check_loans(const std::string& lender, const std::vector<loan>& proposed,
                       const std::map<std::string, rspec>& given,
                       const std::map<std::string, std::vector<loan>>& loans);

} // namespace pl::node
