#include "plc/api/related.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace pl::plc::api {

namespace {

using xv = xmlrpc_c::value;

/// Reads the owner's current ids of `list_field` (an int_list of its descriptor).
std::set<int> current_ids(store::connection& conn, const store::class_desc& owner, int owner_id,
                          const std::string& list_field) {
  const store::field_desc* f = owner.find(list_field);
  if (!f)
    throw std::logic_error("related fields: no field " + list_field + " in " + owner.name);
  auto res = conn.exec("SELECT array_to_string(" + f->expression() + ", ',') FROM " + owner.table +
                           " t WHERE t." + owner.primary_key + " = $1",
                       {std::to_string(owner_id)});
  std::set<int> out;
  if (res.rows() == 0)
    return out;
  std::string text{res.text(0, 0)};
  std::size_t start = 0;
  while (start < text.size()) {
    auto comma = text.find(',', start);
    out.insert(std::stoi(text.substr(start, comma - start)));
    start = comma == std::string::npos ? text.size() : comma + 1;
  }
  return out;
}

const std::vector<xv>& list_of(const std::map<std::string, xv>& m, const std::string& key,
                               std::vector<xv>& storage) {
  const xv& v = m.at(key);
  if (v.type() != xv::TYPE_ARRAY)
    throw fault::invalid_value(key, "expected array");
  storage = xmlrpc_c::value_array(v).vectorValueValue();
  return storage;
}

void require_role(const dispatcher& d, const caller& who, const std::string& method) {
  const method_spec* spec = d.find(method);
  if (!spec)
    throw fault(fault_code::not_implemented, method + " is not available");
  if (!spec->roles.empty() && !intersects(who.roles, spec->roles))
    throw fault(fault_code::authentication_failure, "Not allowed to call " + method);
}

/// One call to make, prepared while checking.
struct planned_call {
  std::string method;
  std::vector<xv> args;
};

} // namespace

bool relations::has(const std::string& key) const {
  return std::any_of(ids.begin(), ids.end(), [&](const auto& r) { return r.field == key; }) ||
         std::any_of(objects.begin(), objects.end(), [&](const auto& r) { return r.field == key; });
}

void apply_relations(const dispatcher& d, call_context& ctx, const store::class_desc& owner,
                     int owner_id, const xv& fields, const relations& rel) {
  auto m = xmlrpc_c::value_struct(fields).cvalue();
  std::vector<planned_call> calls;
  const xv owner_arg = xmlrpc_c::value_int(owner_id);
  {
    auto conn = ctx.svc.db->acquire();
    for (const auto& r : rel.ids) {
      if (!m.count(r.field))
        continue;
      std::vector<xv> storage;
      std::set<int> wanted;
      for (const auto& item : list_of(m, r.field, storage)) {
        if (item.type() != xv::TYPE_INT && item.type() != xv::TYPE_STRING)
          throw fault::invalid_value(r.field, "expected ids or names");
        wanted.insert(r.resolve(*conn, item));
      }
      std::set<int> have = current_ids(*conn, owner, owner_id, r.owner_list);
      auto call = [&](const std::string& method, int id) {
        xv other = xmlrpc_c::value_int(id);
        calls.push_back({method, r.owner_first ? std::vector<xv>{owner_arg, other}
                                               : std::vector<xv>{other, owner_arg}});
      };
      for (int id : wanted)
        if (!have.count(id))
          call(r.add_method, id);
      for (int id : have)
        if (!wanted.count(id))
          call(r.remove_method, id);
    }
    for (const auto& r : rel.objects) {
      if (!m.count(r.field))
        continue;
      std::vector<xv> storage;
      std::set<int> have = current_ids(*conn, owner, owner_id, r.owner_list);
      std::set<int> kept;
      std::vector<planned_call> adds, updates;
      for (const auto& item : list_of(m, r.field, storage)) {
        if (item.type() == xv::TYPE_INT) {
          kept.insert(xmlrpc_c::value_int(item).cvalue());
          continue;
        }
        if (item.type() != xv::TYPE_STRUCT)
          throw fault::invalid_value(r.field, "expected ids or structs");
        auto members = xmlrpc_c::value_struct(item).cvalue();
        auto id = members.find(r.id_field);
        if (id == members.end()) {
          adds.push_back({r.add_method, {owner_arg, item}});
          continue;
        }
        if (id->second.type() != xv::TYPE_INT)
          throw fault::invalid_value(r.id_field, "expected int");
        int object = xmlrpc_c::value_int(id->second).cvalue();
        kept.insert(object);
        members.erase(id);
        updates.push_back({r.update_method, {id->second, xmlrpc_c::value_struct(members)}});
      }
      for (int id : kept)
        if (!have.count(id))
          throw fault(fault_code::invalid_argument, r.id_field + " " + std::to_string(id) +
                                                        " is not one of this " + owner.name +
                                                        "'s " + r.field);
      // As PLCAPI: the stale ones go first, then the new, then the changed.
      for (int id : have)
        if (!kept.count(id))
          calls.push_back({r.delete_method, {xmlrpc_c::value_int(id)}});
      calls.insert(calls.end(), adds.begin(), adds.end());
      calls.insert(calls.end(), updates.begin(), updates.end());
    }
  }
  for (const auto& c : calls)
    require_role(d, ctx.who, c.method);
  for (const auto& c : calls)
    d.invoke(c.method, ctx, c.args);
}

} // namespace pl::plc::api
