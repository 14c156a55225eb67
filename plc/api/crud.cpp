#include "plc/api/crud.hpp"

#include "plc/api/fault.hpp"

#include <algorithm>
#include <map>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;

std::string type_name(field_type t) {
  switch (t) {
  case field_type::integer:
  case field_type::timestamp:
    return "int";
  case field_type::boolean:
    return "boolean";
  case field_type::real:
    return "double";
  case field_type::text:
    return "string";
  case field_type::int_list:
  case field_type::text_list:
    return "array";
  }
  return "value";
}

/// Converts one caller value to the column's text form, checking its type.
store::param column_text(const store::field_desc& f, const xv& v) {
  if (v.type() == xv::TYPE_NIL) {
    if (!f.nullable)
      throw fault::invalid_value(f.name, "may not be nil");
    return std::nullopt;
  }
  auto bad = [&] { return fault::invalid_value(f.name, "expected " + type_name(f.type)); };
  switch (f.type) {
  case field_type::integer:
  case field_type::timestamp:
    if (v.type() == xv::TYPE_INT)
      return std::to_string(xmlrpc_c::value_int(v).cvalue());
    if (v.type() == xv::TYPE_I8)
      return std::to_string(xmlrpc_c::value_i8(v).cvalue());
    throw bad();
  case field_type::boolean:
    if (v.type() != xv::TYPE_BOOLEAN)
      throw bad();
    return std::string{xmlrpc_c::value_boolean(v).cvalue() ? "true" : "false"};
  case field_type::real:
    if (v.type() == xv::TYPE_DOUBLE)
      return exact_text(xmlrpc_c::value_double(v).cvalue());
    if (v.type() == xv::TYPE_INT)
      return std::to_string(xmlrpc_c::value_int(v).cvalue());
    throw bad();
  case field_type::text: {
    if (v.type() != xv::TYPE_STRING)
      throw bad();
    std::string s = xmlrpc_c::value_string(v).cvalue();
    check_length(f.name, s, f.max_bytes);
    return s;
  }
  case field_type::int_list:
  case field_type::text_list:
    break;
  }
  throw bad();
}

} // namespace

void row_values::set(std::string column, store::param value, std::string cast) {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i].first == column) {
      columns[i].second = std::move(value);
      casts[i] = std::move(cast);
      return;
    }
  columns.emplace_back(std::move(column), std::move(value));
  casts.push_back(std::move(cast));
}

bool row_values::has(const std::string& column) const {
  return std::any_of(columns.begin(), columns.end(), [&](auto& c) { return c.first == column; });
}

row_values writable_values(const store::class_desc& cls, const xv& fields,
                           const std::set<std::string>& allowed, bool strict) {
  if (fields.type() != xv::TYPE_STRUCT)
    throw fault::invalid_value(cls.name + " fields", "expected struct");
  row_values out;
  for (const auto& [key, value] : xmlrpc_c::value_struct(fields).cvalue()) {
    const store::field_desc* f = cls.find(key);
    bool accepted = f && f->writable && (allowed.empty() || allowed.count(key));
    if (!accepted) {
      if (strict)
        throw fault(fault_code::invalid_argument, "Invalid field '" + key + "' for " + cls.name);
      continue;
    }
    out.set(f->name, column_text(*f, value),
            f->type == field_type::timestamp ? "to_timestamp" : "");
  }
  return out;
}

namespace {

std::string placeholder(std::size_t n, const std::string& cast) {
  std::string p = "$" + std::to_string(n);
  return cast == "to_timestamp" ? "to_timestamp(" + p + "::bigint)" : p + cast;
}

} // namespace

int insert_row(store::connection& conn, const store::class_desc& cls, const row_values& values) {
  std::string cols, vals;
  std::vector<store::param> params;
  for (std::size_t i = 0; i < values.columns.size(); ++i) {
    cols += (i ? ", " : "") + values.columns[i].first;
    params.push_back(values.columns[i].second);
    vals += (i ? ", " : "") + placeholder(params.size(), values.casts[i]);
  }
  std::string sql = values.columns.empty()
                        ? "INSERT INTO " + cls.table + " DEFAULT VALUES"
                        : "INSERT INTO " + cls.table + " (" + cols + ") VALUES (" + vals + ")";
  auto res = conn.exec(sql + " RETURNING " + cls.primary_key, params);
  return static_cast<int>(res.integer(0, 0));
}

bool update_row(store::connection& conn, const store::class_desc& cls, int id,
                const row_values& values) {
  if (values.columns.empty())
    return true;
  std::string sets;
  std::vector<store::param> params;
  for (std::size_t i = 0; i < values.columns.size(); ++i) {
    params.push_back(values.columns[i].second);
    sets += (i ? ", " : "") + values.columns[i].first + " = " +
            placeholder(params.size(), values.casts[i]);
  }
  params.push_back(std::to_string(id));
  std::string sql = "UPDATE " + cls.table + " t SET " + sets + " WHERE t." + cls.primary_key +
                    " = $" + std::to_string(params.size());
  if (!cls.live_condition.empty())
    sql += " AND " + cls.live_condition;
  return conn.exec(sql, params).affected() > 0;
}

int resolve_id(store::connection& conn, const store::class_desc& cls, const xv& id_or_name) {
  std::string sql = "SELECT t." + cls.primary_key + " FROM " + cls.table + " t WHERE ";
  std::vector<store::param> params;
  if (id_or_name.type() == xv::TYPE_INT) {
    sql += "t." + cls.primary_key + " = $1";
    params.push_back(std::to_string(xmlrpc_c::value_int(id_or_name).cvalue()));
  } else if (id_or_name.type() == xv::TYPE_STRING && !cls.name_key.empty()) {
    sql += cls.find(cls.name_key)->expression() + " = $1";
    params.push_back(xmlrpc_c::value_string(id_or_name).cvalue());
  } else {
    throw fault::invalid_value(
        cls.primary_key + (cls.name_key.empty() ? "" : " or " + cls.name_key),
        "expected " + std::string{cls.name_key.empty() ? "int" : "int or string"});
  }
  if (!cls.live_condition.empty())
    sql += " AND " + cls.live_condition;
  auto res = conn.exec(sql, params);
  if (res.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such " + cls.name);
  return static_cast<int>(res.integer(0, 0));
}

void set_link(store::connection& conn, const link_table& link, int left, int right, bool present) {
  std::string table = link.table, l = link.left, r = link.right;
  std::string sql = present ? "INSERT INTO " + table + " (" + l + ", " + r +
                                  ") VALUES ($1, $2) ON CONFLICT DO NOTHING"
                            : "DELETE FROM " + table + " WHERE " + l + " = $1 AND " + r + " = $2";
  conn.exec(sql, {std::to_string(left), std::to_string(right)});
}

xv get_objects(store::connection& conn, const store::class_desc& cls, const xv& filter,
               const xv& return_fields, const select_options& opts) {
  auto q = build_select(cls, filter, return_fields, opts);
  auto rows = conn.exec(q.sql, q.params);
  return xmlrpc_c::value_array(marshal_rows(q, rows));
}

const xv& arg_or_nil(const std::vector<xv>& args, std::size_t index) {
  static const xv nil = xmlrpc_c::value_nil();
  return index < args.size() ? args[index] : nil;
}

} // namespace pl::plc::api
