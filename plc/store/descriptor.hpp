#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pl::plc::store {

/// How a field is stored and how it travels over XML-RPC.
enum class field_type {
  integer,   ///< int; SQL bigint
  boolean,   ///< boolean
  real,      ///< double; SQL float8
  text,      ///< string; SQL text, bounded by max_bytes
  timestamp, ///< int seconds since the epoch; SQL timestamptz
  int_list,  ///< [int]; derived from join tables
  text_list, ///< [string]; derived from join tables
};

/// Tells whether `t` is one of the list types.
constexpr bool is_list(field_type t) {
  return t == field_type::int_list || t == field_type::text_list;
}

/// One field of an object class, as PLCAPI names it.
struct field_desc {
  std::string name; ///< API name (e.g. "login_base").
  field_type type;
  /// SQL that reads the field with the class's row aliased as `t`: a column
  /// (`t.login_base`) or, for derived lists, a subquery
  /// (`ARRAY(SELECT person_id FROM person_site s WHERE s.site_id = t.site_id)`).
  /// Empty means `t.<name>`.
  std::string sql = {};
  std::size_t max_bytes = 0; ///< Longest text in UTF-8 bytes; 0 for no limit.
  bool writable = false;     ///< Accepted by Add and Update.
  bool nullable = false;     ///< May be NULL (nil over XML-RPC).
  std::string doc = {};

  /// Returns the SQL expression that reads this field.
  std::string expression() const { return sql.empty() ? "t." + name : sql; }
};

/// Describes one object class once; SQL, validation, filters, return_fields
/// and marshalling are all derived from it.
struct class_desc {
  std::string name;        ///< Class name used in messages ("Site").
  std::string table;       ///< Primary table ("sites").
  std::string primary_key; ///< Integer key field ("site_id").
  std::string name_key; ///< Unique name field matched by strings in id-or-name lists; may be empty.
  std::vector<field_desc> fields;
  /// SQL condition (on `t`) that a row is live; deleted rows match only when
  /// the caller asks for them. Empty when the class has no soft delete.
  std::string live_condition = {};
  /// Tags: table holding (`<primary_key>`, tag_type_id, value), empty if the class has none.
  std::string tag_table = {};

  /// Returns the field named `name`, or nullptr.
  const field_desc* find(std::string_view name) const;
};

} // namespace pl::plc::store
