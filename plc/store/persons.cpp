#include "plc/store/persons.hpp"

namespace pl::plc::store {

int add_person(connection& conn, const new_person& p, const pl::clock& clock) {
  std::string now = std::to_string(clock.now_epoch());
  return in_transaction(conn, [&](connection& c) {
    auto res = c.exec("INSERT INTO persons (email, first_name, last_name, password, enabled,"
                      " date_created, last_updated)"
                      " VALUES ($1, $2, $3, $4, $5, to_timestamp($6), to_timestamp($6))"
                      " RETURNING person_id",
                      {p.email, p.first_name, p.last_name, p.password_hash,
                       std::string{p.enabled ? "true" : "false"}, now});
    int id = static_cast<int>(res.integer(0, 0));
    for (int role : p.role_ids)
      c.exec("INSERT INTO person_role (person_id, role_id) VALUES ($1, $2)",
             {std::to_string(id), std::to_string(role)});
    return id;
  });
}

std::optional<int> find_person(connection& conn, const std::string& email) {
  auto res = conn.exec(
      "SELECT person_id FROM persons WHERE lower(email) = lower($1) AND NOT deleted", {email});
  if (res.rows() == 0)
    return std::nullopt;
  return static_cast<int>(res.integer(0, 0));
}

void set_password_hash(connection& conn, int person_id, const std::string& hash,
                       const pl::clock& clock) {
  conn.exec("UPDATE persons SET password = $2, last_updated = to_timestamp($3)"
            " WHERE person_id = $1",
            {std::to_string(person_id), hash, std::to_string(clock.now_epoch())});
}

} // namespace pl::plc::store
