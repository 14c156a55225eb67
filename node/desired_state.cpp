#include "node/desired_state.hpp"

#include <algorithm>
#include <deque>
#include <limits>

#include "actors/errors.hpp"
#include "actors/resources.hpp"
#include "actors/sliver_tags.hpp"
#include "drivers/mechanism_driver.hpp"

namespace pl::node {

namespace {

using xv = xmlrpc_c::value;
using xstruct = std::map<std::string, xv>;

const char* type_name(xv::type_t t) {
  switch (t) {
  case xv::TYPE_INT:
  case xv::TYPE_I8:
    return "an integer";
  case xv::TYPE_BOOLEAN:
    return "a boolean";
  case xv::TYPE_DOUBLE:
    return "a double";
  case xv::TYPE_STRING:
    return "a string";
  case xv::TYPE_ARRAY:
    return "an array";
  case xv::TYPE_STRUCT:
    return "a struct";
  case xv::TYPE_NIL:
    return "nil";
  case xv::TYPE_DATETIME:
    return "a date";
  case xv::TYPE_BYTESTRING:
    return "base64 bytes";
  default:
    return "an unknown type";
  }
}

// Reads fields out of XML-RPC values, remembering the first problem with its
// path; after a problem every read fails, so callers check `ok()` once per
// entry instead of after every field.
class reader {
public:
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  void fail(const std::string& path, const std::string& what) {
    if (error_.empty())
      error_ = "GetSlivers: " + path + ": " + what;
  }

  const xstruct* as_struct(const xv& v, const std::string& path, std::deque<xstruct>& keep) {
    if (!ok())
      return nullptr;
    if (v.type() != xv::TYPE_STRUCT) {
      fail(path, std::string{"expected a struct, got "} + type_name(v.type()));
      return nullptr;
    }
    keep.push_back(xmlrpc_c::value_struct(v).cvalue());
    return &keep.back();
  }

  // Returns the array at `key` (absent or nil: empty, when `required` is false).
  std::vector<xv> array(const xstruct& s, const std::string& key, const std::string& path,
                        bool required) {
    auto v = find(s, key);
    if (!ok())
      return {};
    if (v == nullptr || v->type() == xv::TYPE_NIL) {
      if (required)
        fail(path + key, "missing");
      return {};
    }
    if (v->type() != xv::TYPE_ARRAY) {
      fail(path + key, std::string{"expected an array, got "} + type_name(v->type()));
      return {};
    }
    return xmlrpc_c::value_array(*v).vectorValueValue();
  }

  std::optional<std::int64_t> integer(const xstruct& s, const std::string& key,
                                      const std::string& path, bool required) {
    auto v = find(s, key);
    if (!ok())
      return std::nullopt;
    if (v == nullptr || v->type() == xv::TYPE_NIL) {
      if (required)
        fail(path + key, "missing");
      return std::nullopt;
    }
    return integer_of(*v, path + key);
  }

  std::optional<std::int64_t> integer_of(const xv& v, const std::string& path) {
    if (v.type() == xv::TYPE_INT)
      return xmlrpc_c::value_int(v).cvalue();
    if (v.type() == xv::TYPE_I8)
      return xmlrpc_c::value_i8(v).cvalue();
    fail(path, std::string{"expected an integer, got "} + type_name(v.type()));
    return std::nullopt;
  }

  std::optional<std::int32_t> id(const xstruct& s, const std::string& key, const std::string& path,
                                 bool required) {
    auto x = integer(s, key, path, required);
    if (!x)
      return std::nullopt;
    if (*x < std::numeric_limits<std::int32_t>::min() ||
        *x > std::numeric_limits<std::int32_t>::max()) {
      fail(path + key, "out of the 32-bit range");
      return std::nullopt;
    }
    return static_cast<std::int32_t>(*x);
  }

  std::optional<std::string> string(const xstruct& s, const std::string& key,
                                    const std::string& path, bool required) {
    auto v = find(s, key);
    if (!ok())
      return std::nullopt;
    if (v == nullptr || v->type() == xv::TYPE_NIL) {
      if (required)
        fail(path + key, "missing");
      return std::nullopt;
    }
    return string_of(*v, path + key);
  }

  std::optional<std::string> string_of(const xv& v, const std::string& path) {
    if (v.type() == xv::TYPE_STRING)
      return xmlrpc_c::value_string(v).cvalue();
    fail(path, std::string{"expected a string, got "} + type_name(v.type()));
    return std::nullopt;
  }

  // Booleans may come as XML-RPC booleans or as 0/1 integers (PLCAPI's
  // older clients); absent or nil gives `fallback`.
  bool flag(const xstruct& s, const std::string& key, const std::string& path, bool fallback) {
    auto v = find(s, key);
    if (!ok() || v == nullptr || v->type() == xv::TYPE_NIL)
      return fallback;
    if (v->type() == xv::TYPE_BOOLEAN)
      return xmlrpc_c::value_boolean(*v).cvalue();
    if (v->type() == xv::TYPE_INT || v->type() == xv::TYPE_I8)
      return *integer_of(*v, path + key) != 0;
    fail(path + key, std::string{"expected a boolean, got "} + type_name(v->type()));
    return fallback;
  }

private:
  const xv* find(const xstruct& s, const std::string& key) {
    auto i = s.find(key);
    return i == s.end() ? nullptr : &i->second;
  }

  std::string error_;
};

std::string at(const std::string& list, std::size_t i) {
  return list + "[" + std::to_string(i) + "].";
}

// Keys come as {key_type, key} structs; a bare string is accepted too.
std::vector<std::string> read_keys(reader& r, const xstruct& s, const std::string& path,
                                   std::deque<xstruct>& keep) {
  std::vector<std::string> result;
  auto items = r.array(s, "keys", path, false);
  for (std::size_t i = 0; i < items.size() && r.ok(); ++i) {
    if (items[i].type() == xv::TYPE_STRING) {
      result.push_back(xmlrpc_c::value_string(items[i]).cvalue());
      continue;
    }
    auto item_path = at(path + "keys", i);
    const auto* k = r.as_struct(items[i], item_path.substr(0, item_path.size() - 1), keep);
    if (k == nullptr)
      break;
    if (auto text = r.string(*k, "key", item_path, true))
      result.push_back(std::move(*text));
  }
  return result;
}

bool known_instantiation(const std::string& x) {
  return x == "plc-instantiated" || x == "delegated" || x == "nm-controller" ||
         x == "not-instantiated";
}

// The InitScripts GetSlivers listed, as actors/sliver_tags resolves them.
std::vector<named_script> named_scripts(const std::vector<initscript>& scripts) {
  std::vector<named_script> out;
  out.reserve(scripts.size());
  for (const auto& s : scripts)
    out.push_back({s.initscript_id, s.name, s.script});
  return out;
}

void sort_slivers(std::vector<sliver_spec>& xs) {
  std::sort(xs.begin(), xs.end(),
            [](const sliver_spec& a, const sliver_spec& b) { return a.name < b.name; });
}

caf::error check_unique(const std::vector<sliver_spec>& sorted, const char* what) {
  for (std::size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i].name == sorted[i - 1].name)
      return make_error(errc::invalid_argument,
                        std::string{what} + ": two slivers named " + sorted[i].name);
  return caf::none;
}

} // namespace

std::string to_string(origin x) {
  switch (x) {
  case origin::get_slivers:
    return "get_slivers";
  case origin::push:
    return "push";
  case origin::ticket:
    return "ticket";
  }
  return "unknown";
}

const sliver_spec* desired_state::find(const std::string& name) const {
  auto i = std::lower_bound(slivers.begin(), slivers.end(), name,
                            [](const sliver_spec& s, const std::string& n) { return s.name < n; });
  return i != slivers.end() && i->name == name ? &*i : nullptr;
}

rspec complete_rspec(const rspec& x) {
  auto result = default_rspec();
  for (const auto& [name, value] : x.values)
    result.values[name] = value;
  return result;
}

caf::expected<desired_state> parse_get_slivers(const xmlrpc_c::value& reply) {
  reader r;
  desired_state result;
  result.source = origin::get_slivers;
  result.full = true;
  // Each entry's structs live in a deque (`local`), so pointers into it stay
  // valid while more are read.
  if (reply.type() != xv::TYPE_STRUCT)
    return make_error(errc::invalid_argument,
                      std::string{"GetSlivers: expected a struct, got "} + type_name(reply.type()));
  const xstruct top = xmlrpc_c::value_struct(reply).cvalue();
  if (auto ts = r.integer(top, "timestamp", "", true))
    result.timestamp = *ts;
  if (auto id = r.id(top, "node_id", "", true))
    result.node_id = *id;
  if (auto h = r.string(top, "hostname", "", false))
    result.hostname = *h;
  for (const auto& g : r.array(top, "groups", "", false))
    if (auto name = r.string_of(g, "groups[]"))
      result.groups.push_back(*name);
  if (!r.ok())
    return make_error(errc::invalid_argument, r.error());

  // Interfaces (5.x) or networks (4.0): the primary one's bwlimit.
  const char* ifkey = top.count("interfaces") ? "interfaces" : "networks";
  auto ifs = r.array(top, ifkey, "", false);
  for (std::size_t i = 0; i < ifs.size() && r.ok(); ++i) {
    std::deque<xstruct> local;
    const auto* s = r.as_struct(ifs[i], std::string{ifkey} + "[" + std::to_string(i) + "]", local);
    if (s == nullptr)
      break;
    auto path = at(ifkey, i);
    if (r.flag(*s, "is_primary", path, false)) {
      if (auto bw = r.integer(*s, "bwlimit", path, false); bw && *bw > 0)
        result.node_bwlimit_kbps = *bw / 1000;
    }
  }

  auto scripts = r.array(top, "initscripts", "", false);
  for (std::size_t i = 0; i < scripts.size() && r.ok(); ++i) {
    std::deque<xstruct> local;
    const auto* s = r.as_struct(scripts[i], "initscripts[" + std::to_string(i) + "]", local);
    if (s == nullptr)
      break;
    auto path = at("initscripts", i);
    if (!r.flag(*s, "enabled", path, true))
      continue;
    initscript x;
    if (auto id = r.id(*s, "initscript_id", path, false))
      x.initscript_id = *id;
    if (auto name = r.string(*s, "name", path, true))
      x.name = *name;
    if (auto script = r.string(*s, "script", path, false))
      x.script = *script;
    result.initscripts.push_back(std::move(x));
  }

  auto files = r.array(top, "conf_files", "", false);
  for (std::size_t i = 0; i < files.size() && r.ok(); ++i) {
    std::deque<xstruct> local;
    const auto* s = r.as_struct(files[i], "conf_files[" + std::to_string(i) + "]", local);
    if (s == nullptr)
      break;
    auto path = at("conf_files", i);
    conf_file f;
    if (auto id = r.id(*s, "conf_file_id", path, false))
      f.conf_file_id = *id;
    f.enabled = r.flag(*s, "enabled", path, true);
    if (auto x = r.string(*s, "source", path, true))
      f.source = *x;
    if (auto x = r.string(*s, "dest", path, true))
      f.dest = *x;
    if (auto x = r.string(*s, "file_permissions", path, false))
      f.file_permissions = *x;
    if (auto x = r.string(*s, "file_owner", path, false))
      f.file_owner = *x;
    if (auto x = r.string(*s, "file_group", path, false))
      f.file_group = *x;
    if (auto x = r.string(*s, "preinstall_cmd", path, false))
      f.preinstall_cmd = *x;
    if (auto x = r.string(*s, "postinstall_cmd", path, false))
      f.postinstall_cmd = *x;
    if (auto x = r.string(*s, "error_cmd", path, false))
      f.error_cmd = *x;
    f.ignore_cmd_errors = r.flag(*s, "ignore_cmd_errors", path, false);
    f.always_update = r.flag(*s, "always_update", path, false);
    result.conf_files.push_back(std::move(f));
  }

  auto accounts = r.array(top, "accounts", "", false);
  for (std::size_t i = 0; i < accounts.size() && r.ok(); ++i) {
    std::deque<xstruct> local;
    const auto* s = r.as_struct(accounts[i], "accounts[" + std::to_string(i) + "]", local);
    if (s == nullptr)
      break;
    auto path = at("accounts", i);
    account a;
    if (auto name = r.string(*s, "name", path, true))
      a.name = *name;
    a.keys = read_keys(r, *s, path, local);
    result.accounts.push_back(std::move(a));
  }

  auto leases = r.array(top, "leases", "", false);
  for (std::size_t i = 0; i < leases.size() && r.ok(); ++i) {
    std::deque<xstruct> local;
    const auto* s = r.as_struct(leases[i], "leases[" + std::to_string(i) + "]", local);
    if (s == nullptr)
      break;
    auto path = at("leases", i);
    lease l;
    if (auto x = r.id(*s, "slice_id", path, true))
      l.slice_id = *x;
    if (auto x = r.integer(*s, "t_from", path, true))
      l.t_from = *x;
    if (auto x = r.integer(*s, "t_until", path, true))
      l.t_until = *x;
    result.leases.push_back(l);
  }

  const auto scripts_by_name = named_scripts(result.initscripts);
  auto slivers = r.array(top, "slivers", "", true);
  for (std::size_t i = 0; i < slivers.size() && r.ok(); ++i) {
    std::deque<xstruct> local;
    const auto* s = r.as_struct(slivers[i], "slivers[" + std::to_string(i) + "]", local);
    if (s == nullptr)
      break;
    auto path = at("slivers", i);
    sliver_spec spec;
    spec.node_id = result.node_id;
    if (auto x = r.string(*s, "name", path, true))
      spec.name = *x;
    if (auto x = r.id(*s, "slice_id", path, true))
      spec.slice_id = *x;
    if (auto x = r.string(*s, "instantiation", path, true))
      spec.instantiation = *x;
    if (auto x = r.integer(*s, "expires", path, true))
      spec.expires = *x;
    spec.keys = read_keys(r, *s, path, local);
    std::vector<std::pair<std::string, std::string>> tags;
    auto attrs = r.array(*s, "attributes", path, false);
    for (std::size_t j = 0; j < attrs.size() && r.ok(); ++j) {
      auto apath = at(path + "attributes", j);
      const auto* a = r.as_struct(attrs[j], apath.substr(0, apath.size() - 1), local);
      if (a == nullptr)
        break;
      // 5.x says tagname, 4.0 said name.
      auto name = a->count("tagname") ? r.string(*a, "tagname", apath, true)
                                      : r.string(*a, "name", apath, true);
      auto value = r.string(*a, "value", apath, false);
      if (name)
        tags.emplace_back(*name, value.value_or(""));
    }
    if (!r.ok())
      break;
    if (spec.name.empty()) {
      r.fail(path + "name", "empty");
      break;
    }
    if (!known_instantiation(spec.instantiation)) {
      result.invalid.push_back({spec.name, "unknown instantiation \"" + spec.instantiation + "\""});
      continue;
    }
    if (auto why = apply_sliver_tags(spec, tags, scripts_by_name)) {
      result.invalid.push_back({spec.name, std::move(*why)});
      continue;
    }
    result.slivers.push_back(std::move(spec));
  }
  if (!r.ok())
    return make_error(errc::invalid_argument, r.error());
  sort_slivers(result.slivers);
  if (auto err = check_unique(result.slivers, "GetSlivers"))
    return err;
  for (const auto& bad : result.invalid)
    if (result.find(bad.slice) != nullptr)
      return make_error(errc::invalid_argument, "GetSlivers: two slivers named " + bad.slice);
  std::sort(result.invalid.begin(), result.invalid.end(),
            [](const auto& a, const auto& b) { return a.slice < b.slice; });
  for (std::size_t i = 1; i < result.invalid.size(); ++i)
    if (result.invalid[i].slice == result.invalid[i - 1].slice)
      return make_error(errc::invalid_argument,
                        "GetSlivers: two slivers named " + result.invalid[i].slice);
  return result;
}

caf::expected<desired_state> from_snapshot(const sliver_snapshot& snapshot) {
  desired_state result;
  result.source = origin::push;
  result.timestamp = snapshot.timestamp;
  result.node_id = snapshot.node_id;
  result.full = snapshot.full;
  result.slivers = snapshot.slivers;
  for (auto& s : result.slivers) {
    if (s.name.empty())
      return make_error(errc::invalid_argument, "snapshot: a sliver without a name");
    if (auto err = validate(s.resources))
      return make_error(errc::invalid_argument,
                        "snapshot: sliver " + s.name + ": " + drivers::describe(err));
    s.resources = complete_rspec(s.resources);
    if (s.node_id == 0)
      s.node_id = snapshot.node_id;
  }
  sort_slivers(result.slivers);
  if (auto err = check_unique(result.slivers, "snapshot"))
    return err;
  return result;
}

caf::expected<desired_state> from_ticket(const sliver_ticket& ticket, std::int32_t node_id) {
  if (!ticket.any_node &&
      std::find(ticket.node_ids.begin(), ticket.node_ids.end(), node_id) == ticket.node_ids.end())
    return make_error(errc::invalid_ticket, "ticket for slice " + ticket.slice_name +
                                                " is not valid on node " + std::to_string(node_id));
  sliver_spec spec;
  spec.name = ticket.slice_name;
  spec.slice_id = ticket.slice_id;
  spec.node_id = node_id;
  spec.instantiation = ticket.instantiation;
  spec.expires = ticket.expires;
  spec.keys = ticket.keys;
  if (spec.name.empty())
    return make_error(errc::invalid_ticket, "ticket without a slice name");
  std::vector<std::pair<std::string, std::string>> tags(ticket.attributes.begin(),
                                                        ticket.attributes.end());
  if (!known_instantiation(spec.instantiation))
    return make_error(errc::invalid_argument, "ticket for slice " + spec.name +
                                                  ": unknown instantiation \"" +
                                                  spec.instantiation + "\"");
  if (auto why = apply_sliver_tags(spec, tags, {}))
    return make_error(errc::invalid_argument, "ticket for slice " + spec.name + ": " + *why);
  desired_state result;
  result.source = origin::ticket;
  result.full = false;
  result.node_id = node_id;
  result.timestamp = ticket.issued;
  result.slivers.push_back(std::move(spec));
  return result;
}

} // namespace pl::node
