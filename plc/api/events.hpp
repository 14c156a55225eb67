#pragma once

#include "plc/api/method.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <xmlrpc-c/base.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pl::plc::api {

class dispatcher;

/// One row of `events` and its `event_object` rows.
struct event_record {
  std::string call_name;
  std::string call; ///< The call as text, secrets already removed (see call_text()).
  std::optional<int> person_id;
  std::optional<int> node_id;
  std::string auth_type; ///< The auth struct's AuthMethod; empty when unknown.
  int fault_code = 0;
  std::string message; ///< The fault string, or the handler's message; may be empty.
  double runtime = 0;  ///< Seconds.
  std::vector<touched_object> objects;
};

/// Inserts `ev` with the time from `clock`; returns its event_id.
int record_event(store::connection& conn, const event_record& ev, const pl::clock& clock);

/// Renders a call as PLCAPI logs it, `Name(arg, ...)` with Python-like
/// literals, replacing the values of every struct member named AuthString,
/// session or password (at any depth) with "Removed by API". The text is cut
/// at `max_bytes`.
std::string call_text(const std::string& name, const std::vector<xmlrpc_c::value>& params,
                      std::size_t max_bytes = 16384);

/// Returns the Event class (GetEvents): events with object_ids and object_types.
const store::class_desc& event_class();

/// Returns the EventObject class (GetEventObjects): one row per event and object.
const store::class_desc& event_object_class();

/// Registers GetEvents and GetEventObjects (admin).
void add_event_methods(dispatcher& d);

} // namespace pl::plc::api
