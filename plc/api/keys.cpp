#include "plc/api/keys.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/permissions.hpp"
#include "plc/api/persons.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <optional>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

store::class_desc make_key_class() {
  return {
      "Key",
      "keys",
      "key_id",
      "",
      {
          {"key_id", field_type::integer, {}, 0, false, false, "Key identifier"},
          {"key_type", field_type::text, {}, 20, true, false, "Key type"},
          {"key", field_type::text, {}, 4096, true, false, "Key value"},
          {"person_id", field_type::integer,
           "(SELECT pk.person_id FROM person_key pk WHERE pk.key_id = t.key_id)", 0, false, true,
           "User to which this key belongs"},
          {"peer_id", field_type::integer, "NULL::integer", 0, false, true,
           "Peer to which this key belongs"},
          {"peer_key_id", field_type::integer, "NULL::integer", 0, false, true,
           "Foreign key identifier at peer"},
      },
      "NOT t.is_blacklisted",
  };
}

// --- OpenSSH public keys ---

fault bad_key(const std::string& why) {
  return fault(fault_code::invalid_argument, "Invalid SSH version 2 public key: " + why);
}

/// Decodes strict base64 (padding required, no whitespace); nullopt if malformed.
std::optional<std::string> decode_base64(const std::string& in) {
  static const std::array<int, 256> table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i)
      t[static_cast<unsigned char>(alphabet[i])] = i;
    return t;
  }();
  if (in.empty() || in.size() % 4 != 0)
    return std::nullopt;
  std::size_t pad = 0;
  if (in.back() == '=')
    pad = in[in.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    std::uint32_t acc = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      std::size_t at = i + j;
      int v = 0;
      if (at >= in.size() - pad)
        v = 0; // padding, checked below
      else if ((v = table[static_cast<unsigned char>(in[at])]) < 0)
        return std::nullopt;
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
    }
    out.push_back(static_cast<char>((acc >> 16) & 0xff));
    out.push_back(static_cast<char>((acc >> 8) & 0xff));
    out.push_back(static_cast<char>(acc & 0xff));
  }
  // Padding only at the end, and the bits it covers must be zero.
  for (std::size_t i = 0; i + pad < in.size(); ++i)
    if (in[i] == '=')
      return std::nullopt;
  if (pad > 0) {
    int last = table[static_cast<unsigned char>(in[in.size() - pad - 1])];
    if ((last & (pad == 1 ? 0x3 : 0xf)) != 0)
      return std::nullopt;
  }
  out.resize(out.size() - pad);
  return out;
}

/// Reads one SSH wire-format string (uint32 length, bytes) at `pos`.
std::optional<std::string> wire_string(const std::string& blob, std::size_t& pos) {
  if (blob.size() - pos < 4)
    return std::nullopt;
  std::uint32_t n = 0;
  for (int k = 0; k < 4; ++k)
    n = (n << 8) | static_cast<unsigned char>(blob[pos + k]);
  pos += 4;
  if (blob.size() - pos < n)
    return std::nullopt;
  std::string s = blob.substr(pos, n);
  pos += n;
  return s;
}

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

/// Returns the material of a key of `key_type`: ssh keys are checked.
std::string material_of(const std::string& key_type, const std::string& key) {
  if (key_type == "ssh")
    return ssh_key_material(key);
  if (trim(key).empty())
    throw fault::invalid_value("key", "must be specified");
  return key;
}

// --- Methods ---

void lock_key(store::connection& conn, const std::string& material) {
  // Serialises AddPersonKey/UpdateKey with BlacklistKey on the same material.
  conn.exec("SELECT pg_advisory_xact_lock(hashtext($1))", {material});
}

void refuse_blacklisted(store::connection& conn, const std::string& material) {
  if (conn.exec("SELECT 1 FROM key_blacklist WHERE material = $1", {material}).rows() > 0)
    throw fault(fault_code::invalid_argument, "Key is blacklisted and cannot be used");
}

void check_key_type(store::connection& conn, const std::string& key_type) {
  if (conn.exec("SELECT 1 FROM key_types WHERE key_type = $1", {key_type}).rows() == 0)
    throw fault(fault_code::invalid_argument, "Invalid key type");
}

int resolve_person(store::connection& conn, const xv& id_or_email) {
  if (id_or_email.type() != xv::TYPE_STRING)
    return resolve_id(conn, person_class(), id_or_email);
  std::string email = xmlrpc_c::value_string(id_or_email).cvalue();
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return resolve_id(conn, person_class(), xmlrpc_c::value_string(email));
}

std::optional<int> key_owner(store::connection& conn, int key_id) {
  auto res =
      conn.exec("SELECT person_id FROM person_key WHERE key_id = $1", {std::to_string(key_id)});
  if (res.rows() == 0)
    return std::nullopt;
  return static_cast<int>(res.integer(0, 0));
}

/// Resolves a live key the caller may change: admins any, others their own.
int own_key(store::connection& conn, const caller& who, const xv& key_id, const char* denied) {
  int id = resolve_id(conn, key_class(), key_id);
  if (!is_admin(who) && (!who.person_id || key_owner(conn, id) != who.person_id))
    throw fault(fault_code::permission_denied, denied);
  return id;
}

xv add_person_key(call_context& ctx, const args_t& args) {
  auto values = writable_values(key_class(), args[1]);
  for (const char* n : {"key_type", "key"})
    if (!value_of(values, n))
      throw fault(fault_code::invalid_argument, std::string{"Missing mandatory field "} + n);
  std::string key_type = value_of(values, "key_type")->value();
  std::string key = trim(value_of(values, "key")->value());
  auto conn = ctx.svc.db->acquire();
  int person = resolve_person(*conn, args[0]);
  if (!is_admin(ctx.who) && ctx.who.person_id != person)
    throw fault(fault_code::permission_denied, "You may only modify your own keys");
  check_key_type(*conn, key_type);
  std::string material = material_of(key_type, key);
  int id = store::in_transaction(*conn, [&](store::connection& c) {
    lock_key(c, material);
    refuse_blacklisted(c, material);
    auto res = c.exec("INSERT INTO keys (key_type, key, material) VALUES ($1, $2, $3)"
                      " RETURNING key_id",
                      {key_type, key, material});
    int key_id = static_cast<int>(res.integer(0, 0));
    c.exec("INSERT INTO person_key (key_id, person_id) VALUES ($1, $2)",
           {std::to_string(key_id), std::to_string(person)});
    return key_id;
  });
  ctx.touched("Person", person);
  ctx.touched("Key", id);
  ctx.message = "Key " + std::to_string(id) + " added to person " + std::to_string(person);
  return xmlrpc_c::value_int(id);
}

xv get_keys(call_context& ctx, const args_t& args) {
  select_options opts;
  // Persons other than admins see only their own keys; nodes see all (PLCAPI).
  if (!is_admin(ctx.who) && ctx.who.person_id)
    opts.condition = "t.key_id IN (SELECT pk.key_id FROM person_key pk WHERE pk.person_id = " +
                     std::to_string(*ctx.who.person_id) + ")";
  else if (!is_admin(ctx.who) && !ctx.who.node_id)
    opts.condition = "FALSE";
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, key_class(), normalize_filter(arg_or_nil(args, 0)), arg_or_nil(args, 1),
                     opts);
}

xv update_key(call_context& ctx, const args_t& args) {
  auto values = writable_values(key_class(), args[1]);
  auto conn = ctx.svc.db->acquire();
  int id = own_key(*conn, ctx.who, args[0], "Key must be associated with one of your accounts");
  if (values.columns.empty())
    return xmlrpc_c::value_int(1);
  auto old = conn->exec("SELECT key_type, key FROM keys WHERE key_id = $1", {std::to_string(id)});
  std::string key_type = value_of(values, "key_type") ? value_of(values, "key_type")->value()
                                                      : std::string{old.text(0, 0)};
  std::string key = trim(value_of(values, "key") ? value_of(values, "key")->value()
                                                 : std::string{old.text(0, 1)});
  check_key_type(*conn, key_type);
  std::string material = material_of(key_type, key);
  store::in_transaction(*conn, [&](store::connection& c) {
    lock_key(c, material);
    refuse_blacklisted(c, material);
    auto res = c.exec("UPDATE keys SET key_type = $2, key = $3, material = $4"
                      " WHERE key_id = $1 AND NOT is_blacklisted",
                      {std::to_string(id), key_type, key, material});
    if (res.affected() == 0) // blacklisted meanwhile
      throw fault(fault_code::invalid_argument, "No such Key");
  });
  ctx.touched("Key", id);
  std::string changed;
  for (const auto& [column, _] : values.columns)
    changed += (changed.empty() ? "" : ", ") + column;
  ctx.message = "Key " + std::to_string(id) + " updated: " + changed;
  return xmlrpc_c::value_int(1);
}

xv delete_key(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = own_key(*conn, ctx.who, args[0], "Key must be associated with your account");
  conn->exec("DELETE FROM keys WHERE key_id = $1", {std::to_string(id)});
  ctx.touched("Key", id);
  ctx.message = "Key " + std::to_string(id) + " deleted";
  return xmlrpc_c::value_int(1);
}

xv blacklist_key(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, key_class(), args[0]);
  std::vector<int> keys, persons;
  store::in_transaction(*conn, [&](store::connection& c) {
    auto m = c.exec("SELECT material FROM keys WHERE key_id = $1", {std::to_string(id)});
    std::string material{m.text(0, 0)};
    lock_key(c, material);
    c.exec("INSERT INTO key_blacklist (material) VALUES ($1) ON CONFLICT DO NOTHING", {material});
    // Every key with this material, of any account, is kept but detached.
    auto hit = c.exec("UPDATE keys SET is_blacklisted = true WHERE material = $1"
                      " RETURNING key_id",
                      {material});
    for (int r = 0; r < hit.rows(); ++r)
      keys.push_back(static_cast<int>(hit.integer(r, 0)));
    auto owners = c.exec("DELETE FROM person_key WHERE key_id IN"
                         " (SELECT key_id FROM keys WHERE material = $1) RETURNING person_id",
                         {material});
    for (int r = 0; r < owners.rows(); ++r)
      persons.push_back(static_cast<int>(owners.integer(r, 0)));
  });
  for (int k : keys)
    ctx.touched("Key", k);
  for (int p : persons)
    ctx.touched("Person", p);
  ctx.message = "Key " + std::to_string(id) + " blacklisted";
  return xmlrpc_c::value_int(1);
}

xv add_key_type(call_context& ctx, const args_t& args) {
  std::string name = xmlrpc_c::value_string(args[0]).cvalue();
  check_length("key_type", name, 20);
  if (name.empty())
    throw fault(fault_code::invalid_argument, "Key type must be specified");
  auto conn = ctx.svc.db->acquire();
  auto res =
      conn->exec("INSERT INTO key_types (key_type) VALUES ($1) ON CONFLICT DO NOTHING", {name});
  if (res.affected() == 0)
    throw fault(fault_code::invalid_argument, "Key type name already in use");
  ctx.message = "Key type " + name + " added";
  return xmlrpc_c::value_int(1);
}

xv get_key_types(call_context& ctx, const args_t&) {
  auto conn = ctx.svc.db->acquire();
  auto res = conn->exec("SELECT key_type FROM key_types ORDER BY 1");
  std::vector<xv> out;
  for (int r = 0; r < res.rows(); ++r)
    out.push_back(xmlrpc_c::value_string(std::string{res.text(r, 0)}));
  return xmlrpc_c::value_array(out);
}

xv delete_key_type(call_context& ctx, const args_t& args) {
  std::string name = xmlrpc_c::value_string(args[0]).cvalue();
  auto conn = ctx.svc.db->acquire();
  // The keys of that type go with it (PLCAPI); blacklisted material stays blacklisted.
  auto res = conn->exec("DELETE FROM key_types WHERE key_type = $1", {name});
  if (res.affected() == 0)
    throw fault(fault_code::invalid_argument, "No such key type");
  ctx.message = "Key type " + name + " deleted";
  return xmlrpc_c::value_int(1);
}

} // namespace

const store::class_desc& key_class() {
  static const store::class_desc cls = make_key_class();
  return cls;
}

std::string ssh_key_material(const std::string& key_in) {
  std::string key = trim(key_in);
  for (unsigned char c : key)
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      throw bad_key("control characters or line breaks");
  auto sep = key.find_first_of(" \t");
  if (sep == std::string::npos)
    throw bad_key("expected '<type> <base64> [comment]'");
  std::string type = key.substr(0, sep);
  auto b64_start = key.find_first_not_of(" \t", sep);
  auto b64_end = key.find_first_of(" \t", b64_start);
  std::string b64 =
      key.substr(b64_start, b64_end == std::string::npos ? b64_end : b64_end - b64_start);
  static const std::array<const char*, 6> types = {"ssh-rsa",
                                                   "ssh-dss",
                                                   "ssh-ed25519",
                                                   "ecdsa-sha2-nistp256",
                                                   "ecdsa-sha2-nistp384",
                                                   "ecdsa-sha2-nistp521"};
  if (std::find(types.begin(), types.end(), type) == types.end())
    throw bad_key("unknown key type '" + type.substr(0, 40) + "'");
  auto blob = decode_base64(b64);
  if (!blob)
    throw bad_key("the key data is not base64");
  std::size_t pos = 0;
  auto inner = wire_string(*blob, pos);
  if (!inner || *inner != type)
    throw bad_key("the key data is not a " + type + " key");
  if (type.rfind("ecdsa-sha2-", 0) == 0) {
    auto curve = wire_string(*blob, pos);
    if (!curve || *curve != type.substr(11))
      throw bad_key("the key data names another curve");
  } else if (type == "ssh-ed25519") {
    auto point = wire_string(*blob, pos);
    if (!point || point->size() != 32)
      throw bad_key("an ed25519 key has 32 bytes");
  } else if (!wire_string(*blob, pos)) {
    throw bad_key("the key data is truncated");
  }
  return type + " " + b64;
}

void add_key_methods(dispatcher& d) {
  const param_spec key_id{"key_id", xml_type::integer};
  const param_spec key_fields{"key_fields", xml_type::structure};
  d.add({"AddPersonKey",
         {role::admin, role::pi, role::tech, role::user},
         {{"person_id_or_email", xml_type::any}, key_fields},
         xml_type::integer,
         "Adds a key {key_type, key} to an account; non-admins only to their own. ssh keys "
         "must be OpenSSH public keys; blacklisted keys are refused. Returns the new key_id.",
         add_person_key});
  d.add({"GetKeys",
         {role::admin, role::pi, role::user, role::tech, role::node},
         {{"key_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
         xml_type::array,
         "Returns the keys matching the filter: admins and nodes all, others their own. "
         "Blacklisted keys are never returned.",
         get_keys});
  d.add({"UpdateKey",
         {role::admin, role::pi, role::tech, role::user},
         {key_id, key_fields},
         xml_type::integer,
         "Updates a key's key_type and key; non-admins only their own. Returns 1.",
         update_key});
  d.add({"DeleteKey",
         {role::admin, role::pi, role::tech, role::user},
         {key_id},
         xml_type::integer,
         "Deletes a key; non-admins only their own. Returns 1.",
         delete_key});
  d.add({"BlacklistKey",
         {role::admin},
         {key_id},
         xml_type::integer,
         "Blacklists a key: every key with the same material (of any account) is detached and "
         "hidden, and the material can never be added again. Returns 1.",
         blacklist_key});
  d.add({"AddKeyType",
         {role::admin},
         {{"name", xml_type::string}},
         xml_type::integer,
         "Adds a key type. Returns 1.",
         add_key_type});
  d.add({"GetKeyTypes",
         {role::admin, role::pi, role::user, role::tech, role::node},
         {},
         xml_type::array,
         "Returns the names of all key types.",
         get_key_types});
  d.add({"DeleteKeyType",
         {role::admin},
         {{"name", xml_type::string}},
         xml_type::integer,
         "Deletes a key type and every key of that type. Returns 1.",
         delete_key_type});
}

} // namespace pl::plc::api
