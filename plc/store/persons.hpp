#pragma once

#include "actors/clock.hpp"
#include "plc/store/pg.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pl::plc::store {

/// Fields of a new account; `password_hash` is already derived (never plain text).
struct new_person {
  std::string email;
  std::string first_name;
  std::string last_name;
  std::string password_hash;
  bool enabled = false;
  std::vector<int> role_ids;
};

/// Inserts a person with its roles in one transaction; returns the person_id.
/// A live account with the same e-mail is a db_error with unique_violation().
int add_person(connection& conn, const new_person& p, const pl::clock& clock);

/// Returns the person_id of the live account with `email`, if any.
std::optional<int> find_person(connection& conn, const std::string& email);

/// Replaces the stored password hash of `person_id`.
void set_password_hash(connection& conn, int person_id, const std::string& hash,
                       const pl::clock& clock);

} // namespace pl::plc::store
