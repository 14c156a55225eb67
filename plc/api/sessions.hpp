#pragma once

#include "actors/clock.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <cstdint>
#include <string>

namespace pl::plc::api {

class dispatcher;

/// How long a person session lasts unless the caller asks otherwise (PLCAPI: 24 h).
constexpr std::int64_t person_session_seconds = 24 * 60 * 60;

/// Returns a new session key: base64 of 32 random bytes, as PLCAPI makes them.
std::string new_session_key();

/// Creates a session for `person_id` expiring at `expires` (epoch seconds),
/// after deleting every expired session; returns its key.
std::string add_person_session(store::connection& conn, int person_id, std::int64_t expires,
                               const pl::clock& clock);

/// Creates the session of `node_id` (no expiry), replacing the node's
/// previous one: a node holds at most one session. Returns its key.
std::string add_node_session(store::connection& conn, int node_id, const pl::clock& clock);

/// Returns the Session class (GetSessions): session_id, person_id, node_id, expires.
const store::class_desc& session_class();

/// Registers GetSession, AddSession, DeleteSession and GetSessions.
void add_session_methods(dispatcher& d);

} // namespace pl::plc::api
