#pragma once

// GetSliceTicket: PLC's signed grant of a slice's slivers (actors/ticket.hpp
// has the format). The handler reads the slice as GetSlivers does and hands
// the record to a `ticket_authority`, which holds PLC's key and keeps track of
// the tickets it issued (plcd: one ticket actor each, plc/push/ticket_office).

#include "plc/api/dispatcher.hpp"

#include "actors/clock.hpp"
#include "actors/outcome.hpp"
#include "actors/records.hpp"
#include "actors/ticket.hpp"
#include "actors/ticket_keys.hpp"

#include <chrono>
#include <functional>

namespace pl::plc::api {

/// Signs tickets and learns about each one issued; plcd's lives as long as
/// the dispatcher it is registered with.
class ticket_authority {
public:
  virtual ~ticket_authority() = default;
  /// Signs a ticket for `body`: sets `issued` to now, a fresh nonce and the
  /// key id, and lowers `expires` to now + the ticket lifetime when later.
  /// Fails with the reason when `body` cannot be issued.
  virtual outcome<signed_ticket> sign(sliver_ticket body) = 0;
  /// Takes note of a ticket just issued (its record, with the slice's
  /// slice-wide sliver). Called on an API worker thread; must not block.
  virtual void note_issued(const ticket& record) = 0;
};

/// The authority plcd uses: PLC's key, its clock and the ticket lifetime;
/// `on_issued` (may be empty) is `note_issued`.
class key_ticket_authority final : public ticket_authority {
public:
  key_ticket_authority(signing_key key, const pl::clock& clock, std::chrono::seconds lifetime,
                       std::function<void(const ticket&)> on_issued = {});

  outcome<signed_ticket> sign(sliver_ticket body) override;
  void note_issued(const ticket& record) override;

  const verify_key& public_key() const { return key_.public_key(); }
  std::chrono::seconds lifetime() const { return lifetime_; }

private:
  signing_key key_;
  const pl::clock& clock_;
  std::chrono::seconds lifetime_;
  std::function<void(const ticket&)> on_issued_;
};

/// Returns the record (actors/records.hpp's `ticket`) of a signed ticket:
/// its binary form, content, signature and `sliver`.
ticket ticket_record(const signed_ticket& t, sliver_spec sliver);

/// Registers GetSliceTicket (admin, pi, user, peer: an admin for any slice, a
/// member for its slices, a PI for the slices of its sites), signing with
/// `authority`, which must outlive `d`; nullptr means tickets are off (the
/// method answers fault 109 saying so).
void add_ticket_methods(dispatcher& d, ticket_authority* authority);

} // namespace pl::plc::api
