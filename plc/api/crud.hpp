#pragma once

#include "plc/api/filter.hpp"
#include "plc/api/method.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <xmlrpc-c/base.hpp>

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace pl::plc::api {

/// Column values for an INSERT or UPDATE, already validated against the descriptor.
struct row_values {
  std::vector<std::pair<std::string, store::param>> columns; ///< column -> text value or NULL
  std::vector<std::string> casts; ///< SQL cast per column ("" or "::timestamptz")

  /// Adds a column set by code (not by a caller), e.g. date_created.
  void set(std::string column, store::param value, std::string cast = {});
  bool has(const std::string& column) const;
};

/// Validates a caller's fields struct against the descriptor's writable
/// fields and converts it to column values. Unknown or read-only keys are
/// ignored when `strict` is false (PLCAPI ignores extra struct keys), fault
/// 102 otherwise; `allowed`, when not empty, further limits the accepted
/// keys. Types, nil-ness and UTF-8 byte lengths are checked (fault 102).
row_values writable_values(const store::class_desc& cls, const xmlrpc_c::value& fields,
                           const std::set<std::string>& allowed = {}, bool strict = false);

/// Inserts a row and returns its primary key.
int insert_row(store::connection& conn, const store::class_desc& cls, const row_values& values);

/// Updates the live row `id`; returns false if there is none.
bool update_row(store::connection& conn, const store::class_desc& cls, int id,
                const row_values& values);

/// Resolves an id-or-name argument to the primary key of a live row; fault
/// 102 "No such <class>" when there is none.
int resolve_id(store::connection& conn, const store::class_desc& cls,
               const xmlrpc_c::value& id_or_name);

/// Names a join table that links two classes, e.g. {"person_role", "person_id", "role_id"}.
/// The names come from code, never from a caller.
struct link_table {
  const char* table;
  const char* left;
  const char* right;
};

/// Adds the row (left, right) to `link` (no error if it is there, as PLCAPI's
/// Add*To* methods) or removes it (no error if it is not).
void set_link(store::connection& conn, const link_table& link, int left, int right, bool present);

/// Runs a Get*: builds the SELECT, executes it and marshals the rows.
xmlrpc_c::value get_objects(store::connection& conn, const store::class_desc& cls,
                            const xmlrpc_c::value& filter, const xmlrpc_c::value& return_fields,
                            const select_options& opts = {});

/// Returns the argument at `index`, or nil when the caller left it out.
const xmlrpc_c::value& arg_or_nil(const std::vector<xmlrpc_c::value>& args, std::size_t index);

} // namespace pl::plc::api
