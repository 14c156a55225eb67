#include "node/loans.hpp"

#include <algorithm>

#include "actors/resources.hpp"
#include "node/desired_state.hpp"

namespace pl::node {

namespace {

std::string num(std::int64_t x) {
  return std::to_string(x);
}

} // namespace

loan_outcome apply_loans(const std::map<std::string, rspec>& given,
                         const std::map<std::string, std::vector<loan>>& loans) {
  loan_outcome out;
  for (const auto& [name, x] : given)
    out.effective.emplace(name, complete_rspec(x));
  for (const auto& [lender, list] : loans) {
    auto g = given.find(lender);
    // What the lender still has of its own: PLC's values minus the loans that
    // took effect so far. Borrowed amounts never count.
    rspec resid = g == given.end() ? rspec{} : complete_rspec(g->second);
    for (const auto& l : list) {
      auto refuse = [&](errc code, std::string why) {
        out.inactive.push_back({lender, l, code, std::move(why)});
      };
      if (g == given.end()) {
        refuse(errc::unknown_sliver, "no sliver " + lender + " on this node");
        continue;
      }
      const auto* row = find_resource(l.resource);
      if (row == nullptr || !row->loanable()) {
        refuse(errc::not_loanable, l.resource + " cannot be lent");
        continue;
      }
      if (l.amount < 0) {
        refuse(errc::invalid_argument, "negative amount " + num(l.amount) + " of " + l.resource);
        continue;
      }
      if (!l.from.empty() && l.from != lender) {
        refuse(errc::invalid_argument, lender + " cannot lend for " + l.from);
        continue;
      }
      if (l.to == lender) {
        refuse(errc::invalid_argument, lender + " cannot lend to itself");
        continue;
      }
      auto target = out.effective.find(l.to);
      if (target == out.effective.end()) {
        refuse(errc::unknown_sliver, "no sliver " + l.to + " on this node");
        continue;
      }
      auto& own = resid.values[l.resource];
      auto keep = *row->loan_minimum;
      if (l.amount > own - keep) {
        refuse(errc::insufficient_allocation,
               lender + " cannot lend " + num(l.amount) + " " + l.resource + ": it has " +
                   num(own) + " of its own left and keeps at least " + num(keep));
        continue;
      }
      auto& theirs = target->second.values[l.resource];
      if (theirs > row->max_value - l.amount) {
        refuse(errc::out_of_range, l.to + " cannot borrow " + num(l.amount) + " " + l.resource +
                                       ": it would exceed " + num(row->max_value));
        continue;
      }
      own -= l.amount;
      out.effective.at(lender).values[l.resource] -= l.amount;
      theirs += l.amount;
    }
  }
  return out;
}

caf::error check_loans(const std::string& lender, const std::vector<loan>& proposed,
                       const std::map<std::string, rspec>& given,
                       const std::map<std::string, std::vector<loan>>& loans) {
  if (!given.count(lender))
    return make_error(errc::unknown_sliver, lender);
  auto before = apply_loans(given, loans);
  auto all = loans;
  all[lender] = proposed;
  auto after = apply_loans(given, all);
  for (const auto& p : after.inactive)
    if (p.lender == lender)
      return make_error(p.code, p.reason);
  for (const auto& p : after.inactive)
    if (std::find(before.inactive.begin(), before.inactive.end(), p) == before.inactive.end())
      return make_error(p.code, p.reason + " (after " + lender + "'s new loans)");
  return caf::none;
}

} // namespace pl::node
