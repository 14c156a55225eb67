#pragma once

#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <xmlrpc-c/base.hpp>

#include <string>
#include <vector>

namespace pl::plc::api {

/// What a Get* call may see besides its filter.
struct select_options {
  /// Also match soft-deleted rows (admins asking for them explicitly).
  bool include_deleted = false;
  /// Tag names valid for this class; usable as filter, sort and return fields.
  std::vector<std::string> tag_names;
  /// Extra condition from code (never from a caller), ANDed with the rest.
  std::string condition;
};

/// One column of a built SELECT: a field of the class or a tag.
struct select_column {
  std::string name;
  store::field_type type;
};

/// A SELECT built from a descriptor; every caller value is a bound parameter.
struct select_query {
  std::string sql;
  std::vector<store::param> params;
  std::vector<select_column> columns;
};

/// Builds the SELECT for a Get* call with PLCAPI 5.x filter semantics.
///
/// `filter` is nil (everything), an array of ids (primary key) and names
/// (name key), OR-combined, or a struct of field -> value, AND-combined
/// (`-OR` switches to OR). Values may be lists (SQL IN; empty matches
/// nothing), nil (IS NULL), or strings with `*`/`%` wildcards (LIKE, with `_`
/// and `\` taken literally). Key prefixes: `~` not, `<` `>` strict, `[` `]`
/// inclusive bounds, `&`/`|` contains all/any for list fields. `-SORT` (a
/// field or a list, `+`/`-` for direction), `-OFFSET`, `-LIMIT`, `-AND`,
/// `-OR`. `return_fields` is nil (all fields) or an array of field and tag
/// names. Unknown fields anywhere and ill-typed values are fault 102.
select_query build_select(const store::class_desc& cls, const xmlrpc_c::value& filter,
                          const xmlrpc_c::value& return_fields, const select_options& opts = {});

/// Turns the rows of `query` into XML-RPC structs keyed by column name.
std::vector<xmlrpc_c::value> marshal_rows(const select_query& query, const store::result& rows);

/// Renders a double with as many digits as it takes to read back the same
/// value (std::to_string keeps only six decimals).
std::string exact_text(double value);

/// Returns the UTF-8 byte length check PLCAPI applies to strings: throws
/// fault 102 "Invalid <name> value: ..." when `text` exceeds `max_bytes`.
void check_length(const std::string& name, const std::string& text, std::size_t max_bytes);

} // namespace pl::plc::api
