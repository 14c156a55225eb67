#include "plc/api/filter.hpp"

#include "plc/api/fault.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>

namespace pl::plc::api {

namespace {

using store::field_desc;
using store::field_type;
using xv = xmlrpc_c::value;

/// Collects bound parameters and hands out their placeholders.
class binder {
public:
  std::string bind(std::string value) {
    params_.emplace_back(std::move(value));
    return "$" + std::to_string(params_.size());
  }
  std::vector<store::param> take() { return std::move(params_); }

private:
  std::vector<store::param> params_;
};

/// A filterable, sortable, returnable name: a field or a tag.
struct resolved {
  std::string name;
  field_type type;
  std::string expression; // SQL reading the value, with `t` the row
};

class resolver {
public:
  resolver(const store::class_desc& cls, const select_options& opts, binder& b)
      : cls_(cls)
      , opts_(opts)
      , binder_(b) {}

  /// Finds `name` among fields and tags; fault 102 with `what` otherwise.
  resolved find(const std::string& name, const char* what) {
    if (const field_desc* f = cls_.find(name))
      return {f->name, f->type, f->expression()};
    if (!cls_.tag_table.empty() &&
        std::find(opts_.tag_names.begin(), opts_.tag_names.end(), name) != opts_.tag_names.end()) {
      auto i = tag_expr_.find(name);
      if (i == tag_expr_.end()) {
        std::string expr = "(SELECT tg.value FROM " + cls_.tag_table +
                           " tg JOIN tag_types tt ON tt.tag_type_id = tg.tag_type_id WHERE tg." +
                           cls_.primary_key + " = t." + cls_.primary_key +
                           " AND tt.tagname = " + binder_.bind(name) + " LIMIT 1)";
        i = tag_expr_.emplace(name, expr).first;
      }
      return {name, field_type::text, i->second};
    }
    throw fault(fault_code::invalid_argument, std::string{what} + " '" + name + "'");
  }

private:
  const store::class_desc& cls_;
  const select_options& opts_;
  binder& binder_;
  std::map<std::string, std::string> tag_expr_;
};

const char* sql_type(field_type t) {
  switch (t) {
  case field_type::integer:
  case field_type::timestamp:
  case field_type::int_list:
    return "bigint";
  case field_type::boolean:
    return "boolean";
  case field_type::real:
    return "float8";
  case field_type::text:
  case field_type::text_list:
    return "text";
  }
  return "text";
}

/// Returns the SQL a filter compares against: timestamps as epoch seconds.
std::string comparable(const resolved& r) {
  if (r.type == field_type::timestamp)
    return "extract(epoch from " + r.expression + ")::bigint";
  if (r.type == field_type::int_list)
    return "(" + r.expression + ")::bigint[]";
  return r.expression;
}

/// Returns the SQL a SELECT reads: epochs for timestamps, JSON text for lists.
std::string selectable(field_type type, const std::string& expression) {
  switch (type) {
  case field_type::timestamp:
    return "extract(epoch from " + expression + ")::bigint";
  case field_type::int_list:
  case field_type::text_list:
    return "coalesce(to_json(" + expression + ")::text, '[]')";
  default:
    return expression;
  }
}

std::string describe(xv::type_t t) {
  switch (t) {
  case xv::TYPE_INT:
  case xv::TYPE_I8:
    return "int";
  case xv::TYPE_BOOLEAN:
    return "boolean";
  case xv::TYPE_DOUBLE:
    return "double";
  case xv::TYPE_STRING:
    return "string";
  case xv::TYPE_ARRAY:
    return "array";
  case xv::TYPE_STRUCT:
    return "struct";
  case xv::TYPE_NIL:
    return "nil";
  default:
    return "other";
  }
}

std::int64_t int_of(const xv& v) {
  if (v.type() == xv::TYPE_I8)
    return xmlrpc_c::value_i8(v).cvalue();
  return xmlrpc_c::value_int(v).cvalue();
}

/// Renders a scalar filter value as text for a parameter of element type `t`.
std::string scalar_text(const std::string& field, field_type t, const xv& v) {
  auto bad = [&] {
    return fault::invalid_value(field,
                                std::string{"expected "} +
                                    (t == field_type::text || t == field_type::text_list ? "string"
                                     : t == field_type::boolean                          ? "boolean"
                                     : t == field_type::real                             ? "double"
                                                                                         : "int") +
                                    ", got " + describe(v.type()));
  };
  switch (t) {
  case field_type::integer:
  case field_type::timestamp:
  case field_type::int_list:
    if (v.type() != xv::TYPE_INT && v.type() != xv::TYPE_I8)
      throw bad();
    return std::to_string(int_of(v));
  case field_type::real:
    if (v.type() == xv::TYPE_DOUBLE)
      return exact_text(xmlrpc_c::value_double(v).cvalue());
    if (v.type() == xv::TYPE_INT || v.type() == xv::TYPE_I8)
      return std::to_string(int_of(v));
    throw bad();
  case field_type::boolean:
    if (v.type() != xv::TYPE_BOOLEAN)
      throw bad();
    return xmlrpc_c::value_boolean(v).cvalue() ? "true" : "false";
  case field_type::text:
  case field_type::text_list:
    if (v.type() != xv::TYPE_STRING)
      throw bad();
    return xmlrpc_c::value_string(v).cvalue();
  }
  throw bad();
}

/// Renders values as a PostgreSQL array literal, each element quoted.
std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::vector<xv> as_list(const xv& v) {
  if (v.type() == xv::TYPE_ARRAY)
    return xmlrpc_c::value_array(v).vectorValueValue();
  return {v};
}

bool has_wildcard(const xv& v) {
  if (v.type() != xv::TYPE_STRING)
    return false;
  auto s = xmlrpc_c::value_string(v).cvalue();
  return s.find('*') != std::string::npos || s.find('%') != std::string::npos;
}

/// Turns PLCAPI's `*`/`%` pattern into a LIKE pattern where only those are wildcards.
std::string like_pattern(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '%')
      out += '%';
    else if (c == '_' || c == '\\')
      out += std::string{'\\'} + c;
    else
      out += c;
  }
  return out;
}

struct modifiers {
  bool negate = false, less = false, greater = false, less_eq = false, greater_eq = false,
       all = false, any = false;
};

modifiers strip_modifiers(std::string& key) {
  modifiers m;
  std::size_t i = 0;
  for (; i < key.size(); ++i) {
    char c = key[i];
    if (c == '~')
      m.negate = true;
    else if (c == '<')
      m.less = true;
    else if (c == '>')
      m.greater = true;
    else if (c == '[')
      m.less_eq = true;
    else if (c == ']')
      m.greater_eq = true;
    else if (c == '&')
      m.all = true;
    else if (c == '|')
      m.any = true;
    else
      break;
  }
  key.erase(0, i);
  return m;
}

std::int64_t non_negative(const std::string& key, const xv& v) {
  if ((v.type() != xv::TYPE_INT && v.type() != xv::TYPE_I8) || int_of(v) < 0)
    throw fault(fault_code::invalid_argument, key + " must be a non-negative int");
  return int_of(v);
}

std::string condition_for(const std::string& key_in, const xv& value, resolver& names, binder& b) {
  std::string key = key_in;
  modifiers m = strip_modifiers(key);
  resolved r = names.find(key, "Invalid filter field");
  std::string lhs = comparable(r);
  std::string clause;
  if (m.all || m.any) {
    if (!store::is_list(r.type))
      throw fault(fault_code::invalid_argument,
                  "'" + key_in.substr(0, 1) + "' applies to list fields only, not '" + key + "'");
    std::vector<std::string> items;
    for (const auto& item : as_list(value))
      items.push_back(scalar_text(key, r.type, item));
    if (items.empty())
      clause = "cardinality(" + lhs + ") = 0";
    else
      clause = lhs + (m.all ? " @> " : " && ") + b.bind(array_literal(items)) +
               "::" + sql_type(r.type) + "[]";
  } else if (value.type() == xv::TYPE_ARRAY) {
    std::vector<std::string> items;
    for (const auto& item : as_list(value))
      items.push_back(scalar_text(key, r.type, item));
    if (items.empty())
      clause = "FALSE";
    else
      clause = lhs + " = ANY(" + b.bind(array_literal(items)) + "::" + sql_type(r.type) + "[])";
  } else if (value.type() == xv::TYPE_NIL) {
    clause = lhs + " IS NULL";
  } else if (store::is_list(r.type)) {
    throw fault(fault_code::invalid_argument,
                "list field '" + key + "' is filtered with '&' or '|'");
  } else if (has_wildcard(value) && !(m.less || m.greater || m.less_eq || m.greater_eq)) {
    if (r.type != field_type::text)
      throw fault::invalid_value(key, "wildcards apply to strings only");
    clause = lhs + " LIKE " + b.bind(like_pattern(xmlrpc_c::value_string(value).cvalue()));
  } else {
    const char* op = m.less         ? " < "
                     : m.greater    ? " > "
                     : m.less_eq    ? " <= "
                     : m.greater_eq ? " >= "
                                    : " = ";
    clause = lhs + op + b.bind(scalar_text(key, r.type, value)) + "::" + sql_type(r.type);
  }
  return m.negate ? "NOT (" + clause + ")" : clause;
}

} // namespace

select_query build_select(const store::class_desc& cls, const xmlrpc_c::value& filter,
                          const xmlrpc_c::value& return_fields, const select_options& opts) {
  binder b;
  resolver names{cls, opts, b};
  select_query q;

  // Columns first, so that their tag parameters come first too.
  std::vector<std::string> wanted;
  if (return_fields.type() == xv::TYPE_ARRAY) {
    for (const auto& item : xmlrpc_c::value_array(return_fields).vectorValueValue()) {
      if (item.type() != xv::TYPE_STRING)
        throw fault::invalid_value("return_fields",
                                   "expected strings, got " + describe(item.type()));
      wanted.push_back(xmlrpc_c::value_string(item).cvalue());
    }
    if (wanted.empty())
      throw fault(fault_code::invalid_argument, "No valid return fields specified");
  } else if (return_fields.type() != xv::TYPE_NIL) {
    throw fault::invalid_value("return_fields",
                               "expected array or nil, got " + describe(return_fields.type()));
  } else {
    for (const auto& f : cls.fields)
      wanted.push_back(f.name);
  }
  std::string select_list;
  for (const auto& name : wanted) {
    if (std::any_of(q.columns.begin(), q.columns.end(), [&](auto& c) { return c.name == name; }))
      continue;
    resolved r = names.find(name, "Invalid return field");
    if (!select_list.empty())
      select_list += ", ";
    select_list += selectable(r.type, r.expression);
    q.columns.push_back({r.name, r.type});
  }

  std::vector<std::string> conditions;
  if (!cls.live_condition.empty() && !opts.include_deleted)
    conditions.push_back(cls.live_condition);
  if (!opts.condition.empty())
    conditions.push_back(opts.condition);

  std::vector<std::string> sorts;
  std::string clip;
  switch (filter.type()) {
  case xv::TYPE_NIL:
    break;
  case xv::TYPE_ARRAY: {
    std::vector<std::string> ids, name_values;
    for (const auto& item : xmlrpc_c::value_array(filter).vectorValueValue()) {
      if (item.type() == xv::TYPE_INT || item.type() == xv::TYPE_I8)
        ids.push_back(std::to_string(int_of(item)));
      else if (item.type() == xv::TYPE_STRING && !cls.name_key.empty())
        name_values.push_back(xmlrpc_c::value_string(item).cvalue());
      else
        throw fault::invalid_value(cls.primary_key +
                                       (cls.name_key.empty() ? "" : " or " + cls.name_key),
                                   "got " + describe(item.type()));
    }
    std::vector<std::string> either;
    if (!ids.empty())
      either.push_back("t." + cls.primary_key + " = ANY(" + b.bind(array_literal(ids)) +
                       "::bigint[])");
    if (!name_values.empty())
      either.push_back(cls.find(cls.name_key)->expression() + " = ANY(" +
                       b.bind(array_literal(name_values)) + "::text[])");
    if (either.empty())
      conditions.push_back("FALSE");
    else if (either.size() == 1)
      conditions.push_back(either[0]);
    else
      conditions.push_back("(" + either[0] + " OR " + either[1] + ")");
    break;
  }
  case xv::TYPE_STRUCT: {
    bool use_or = false;
    std::vector<std::string> criteria;
    for (const auto& [key, value] : xmlrpc_c::value_struct(filter).cvalue()) {
      if (key.empty())
        throw fault(fault_code::invalid_argument, "Invalid filter field ''");
      if (key[0] != '-') {
        criteria.push_back(condition_for(key, value, names, b));
        continue;
      }
      if (key == "-AND") {
        use_or = false;
      } else if (key == "-OR") {
        use_or = true;
      } else if (key == "-SORT") {
        for (const auto& item : as_list(value)) {
          if (item.type() != xv::TYPE_STRING)
            throw fault::invalid_value("-SORT", "expected field names");
          std::string name = xmlrpc_c::value_string(item).cvalue();
          const char* order = " ASC";
          if (!name.empty() && (name[0] == '+' || name[0] == '-')) {
            if (name[0] == '-')
              order = " DESC";
            name.erase(0, 1);
          }
          sorts.push_back(comparable(names.find(name, "Invalid field in -SORT")) + order);
        }
      } else if (key == "-OFFSET") {
        clip += " OFFSET " + std::to_string(non_negative(key, value));
      } else if (key == "-LIMIT") {
        clip += " LIMIT " + std::to_string(non_negative(key, value));
      } else {
        throw fault(fault_code::invalid_argument,
                    "Invalid filter, unknown sort and clip field '" + key + "'");
      }
    }
    if (!criteria.empty()) {
      std::string joined;
      for (const auto& c : criteria)
        joined += (joined.empty() ? "(" : (use_or ? " OR (" : " AND (")) + c + ")";
      conditions.push_back("(" + joined + ")");
    }
    break;
  }
  default:
    throw fault::invalid_value(cls.name + " filter", "expected nil, an array or a struct, got " +
                                                         describe(filter.type()));
  }

  q.sql = "SELECT " + select_list + " FROM " + cls.table + " t";
  for (std::size_t i = 0; i < conditions.size(); ++i)
    q.sql += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  // A stable order by default: clients page with -OFFSET/-LIMIT.
  sorts.push_back("t." + cls.primary_key + " ASC");
  q.sql += " ORDER BY ";
  for (std::size_t i = 0; i < sorts.size(); ++i)
    q.sql += (i ? ", " : "") + sorts[i];
  q.sql += clip;
  q.params = b.take();
  return q;
}

std::vector<xmlrpc_c::value> marshal_rows(const select_query& query, const store::result& rows) {
  std::vector<xmlrpc_c::value> out;
  out.reserve(static_cast<std::size_t>(rows.rows()));
  for (int r = 0; r < rows.rows(); ++r) {
    std::map<std::string, xmlrpc_c::value> row;
    for (int c = 0; c < static_cast<int>(query.columns.size()); ++c) {
      const auto& col = query.columns[static_cast<std::size_t>(c)];
      if (rows.is_null(r, c)) {
        row.emplace(col.name, xmlrpc_c::value_nil());
        continue;
      }
      switch (col.type) {
      case field_type::integer:
      case field_type::timestamp: {
        long long v = rows.integer(r, c);
        // XML-RPC ints are 32-bit; PLCAPI's ids and epochs fit until 2038.
        if (v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max())
          row.emplace(col.name, xmlrpc_c::value_int(static_cast<int>(v)));
        else
          row.emplace(col.name, xmlrpc_c::value_i8(v));
        break;
      }
      case field_type::boolean:
        row.emplace(col.name, xmlrpc_c::value_boolean(rows.boolean(r, c)));
        break;
      case field_type::real:
        row.emplace(col.name, xmlrpc_c::value_double(std::stod(std::string{rows.text(r, c)})));
        break;
      case field_type::text:
        row.emplace(col.name, xmlrpc_c::value_string(std::string{rows.text(r, c)}));
        break;
      case field_type::int_list:
      case field_type::text_list: {
        auto json = nlohmann::json::parse(rows.text(r, c));
        std::vector<xmlrpc_c::value> items;
        for (const auto& item : json) {
          if (item.is_null())
            continue;
          if (col.type == field_type::int_list)
            items.push_back(xmlrpc_c::value_int(item.get<int>()));
          else
            items.push_back(xmlrpc_c::value_string(item.get<std::string>()));
        }
        row.emplace(col.name, xmlrpc_c::value_array(items));
        break;
      }
      }
    }
    out.push_back(xmlrpc_c::value_struct(row));
  }
  return out;
}

std::string exact_text(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc{} ? std::string{buf, end} : std::to_string(value);
}

void check_length(const std::string& name, const std::string& text, std::size_t max_bytes) {
  if (max_bytes != 0 && text.size() > max_bytes)
    throw fault::invalid_value(name, "must be at most " + std::to_string(max_bytes) +
                                         " bytes long (UTF-8), got " + std::to_string(text.size()));
}

} // namespace pl::plc::api
