// VerifyPerson, ResetPassword and NotifyPersons: the account flows that send mail.
#include "plc/api/crud.hpp"
#include "plc/api/dispatcher.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/messages.hpp"
#include "plc/api/password.hpp"
#include "plc/api/sessions.hpp"
#include "plc/store/pool.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <optional>
#include <tuple>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

constexpr std::int64_t verification_seconds = 24 * 60 * 60;

/// The account fields these flows need.
struct account {
  int person_id = 0;
  std::string email, first_name, last_name;
  bool enabled = false;
  std::optional<std::string> verification_key;
  std::optional<std::int64_t> verification_expires;
  std::vector<std::string> roles;

  mail_address address() const { return {first_name + " " + last_name, email}; }
  bool has_role(const std::string& r) const {
    return std::find(roles.begin(), roles.end(), r) != roles.end();
  }
};

account load_account(store::connection& conn, const xv& id_or_email) {
  std::string where;
  std::string value;
  if (id_or_email.type() == xv::TYPE_INT) {
    where = "p.person_id = $1";
    value = std::to_string(xmlrpc_c::value_int(id_or_email).cvalue());
  } else if (id_or_email.type() == xv::TYPE_STRING) {
    where = "lower(p.email) = lower($1)";
    value = xmlrpc_c::value_string(id_or_email).cvalue();
  } else {
    throw fault::invalid_value("person_id_or_email", "expected int or string");
  }
  auto res = conn.exec("SELECT p.person_id, p.email, p.first_name, p.last_name, p.enabled,"
                       " p.verification_key, extract(epoch from p.verification_expires)::bigint,"
                       " coalesce((SELECT string_agg(r.name, ',' ORDER BY r.role_id)"
                       "   FROM person_role pr JOIN roles r USING (role_id)"
                       "   WHERE pr.person_id = p.person_id), '')"
                       " FROM persons p WHERE " +
                           where + " AND NOT p.deleted",
                       {value});
  if (res.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such account");
  account a;
  a.person_id = static_cast<int>(res.integer(0, 0));
  a.email = std::string{res.text(0, 1)};
  a.first_name = std::string{res.text(0, 2)};
  a.last_name = std::string{res.text(0, 3)};
  a.enabled = res.boolean(0, 4);
  a.verification_key = res.optional_text(0, 5);
  if (!res.is_null(0, 6))
    a.verification_expires = res.integer(0, 6);
  std::string_view roles = res.text(0, 7);
  while (!roles.empty()) {
    auto comma = roles.find(',');
    a.roles.emplace_back(roles.substr(0, comma));
    roles = comma == std::string_view::npos ? std::string_view{} : roles.substr(comma + 1);
  }
  return a;
}

/// Encodes `s` for a URL query as Python's urllib.parse.quote_plus does.
std::string quote_plus(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

bool same_key(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::int64_t> optional_epoch(const args_t& args, std::size_t i, const char* name) {
  const xv& v = arg_or_nil(args, i);
  if (v.type() == xv::TYPE_NIL)
    return std::nullopt;
  if (v.type() != xv::TYPE_INT)
    throw fault::invalid_value(name, "expected int or nil");
  return xmlrpc_c::value_int(v).cvalue();
}

std::optional<std::string> optional_text(const args_t& args, std::size_t i, const char* name) {
  const xv& v = arg_or_nil(args, i);
  if (v.type() == xv::TYPE_NIL)
    return std::nullopt;
  if (v.type() != xv::TYPE_STRING)
    throw fault::invalid_value(name, "expected string or nil");
  return xmlrpc_c::value_string(v).cvalue();
}

void set_verification(store::connection& conn, int person_id, const std::optional<std::string>& key,
                      std::optional<std::int64_t> expires) {
  conn.exec("UPDATE persons SET verification_key = $2,"
            " verification_expires = to_timestamp($3::bigint) WHERE person_id = $1",
            {std::to_string(person_id), key,
             expires ? store::param{std::to_string(*expires)} : std::nullopt});
}

/// The person's primary site name and the enabled PIs of the person's sites.
/// Sites come with their own migration; without it there are none.
std::pair<std::string, std::vector<mail_address>> site_contacts(store::connection& conn,
                                                                int person_id) {
  std::pair<std::string, std::vector<mail_address>> out{"No Site", {}};
  if (conn.exec("SELECT to_regclass('person_site') IS NOT NULL AND"
                " to_regclass('sites') IS NOT NULL")
          .boolean(0, 0) == false)
    return out;
  std::string id = std::to_string(person_id);
  auto site = conn.exec("SELECT s.name FROM person_site ps JOIN sites s USING (site_id)"
                        " WHERE ps.person_id = $1 AND NOT s.deleted"
                        " ORDER BY ps.is_primary DESC, s.site_id LIMIT 1",
                        {id});
  if (site.rows() == 1)
    out.first = std::string{site.text(0, 0)};
  auto pis = conn.exec("SELECT DISTINCT p.person_id, p.first_name, p.last_name, p.email"
                       " FROM person_site mine"
                       " JOIN person_site theirs ON theirs.site_id = mine.site_id"
                       " JOIN persons p ON p.person_id = theirs.person_id"
                       " JOIN person_role r ON r.person_id = p.person_id AND r.role_id = 20"
                       " WHERE mine.person_id = $1 AND p.enabled AND NOT p.deleted"
                       " ORDER BY p.person_id",
                       {id});
  for (int i = 0; i < pis.rows(); ++i)
    out.second.push_back({std::string{pis.text(i, 1)} + " " + std::string{pis.text(i, 2)},
                          std::string{pis.text(i, 3)}});
  return out;
}

xv verify_person(call_context& ctx, const args_t& args) {
  auto given_key = optional_text(args, 1, "verification_key");
  auto given_expires = optional_epoch(args, 2, "verification_expires");
  std::int64_t now = ctx.svc.clock->now_epoch();
  std::string random_key = new_session_key();
  account person;
  std::string site_name;
  std::string message_id;
  std::vector<mail_address> to, cc;
  bool key_expired = false;
  {
    // The connection goes back before the mail is sent (send_template borrows one).
    auto conn = ctx.svc.db->acquire();
    person = load_account(*conn, args[0]);
    if (person.enabled)
      throw fault(fault_code::invalid_argument, "Account must be new (disabled)");
    std::vector<mail_address> pis;
    std::tie(site_name, pis) = site_contacts(*conn, person.person_id);
    key_expired = given_key && person.verification_expires && *person.verification_expires < now;
    if (!given_key || key_expired) {
      // Only one verification at a time.
      if (person.verification_expires && *person.verification_expires > now)
        throw fault(fault_code::permission_denied, "Verification request already pending");
      set_verification(*conn, person.person_id, random_key,
                       given_expires.value_or(now + verification_seconds));
      to = {person.address()};
      message_id = "Verify account";
    } else {
      if (!person.verification_key || !person.verification_expires)
        throw fault(fault_code::permission_denied, "Invalid Verification key");
      if (!same_key(*person.verification_key, *given_key))
        throw fault(fault_code::permission_denied, "Verification key incorrect");
      set_verification(*conn, person.person_id, std::nullopt, std::nullopt);
      // Ask the site's PIs (and support, for a PI) to enable the account.
      to = pis;
      cc = {person.address()};
      if (person.has_role("pi")) {
        const mail_identity id = ctx.svc.mail ? ctx.svc.mail->identity() : mail_identity{};
        to.push_back({id.plc_name + " Support", id.support_address});
        message_id = "New PI account";
      } else {
        message_id = "New account";
      }
    }
  }
  std::string roles;
  for (const auto& r : person.roles)
    roles += (roles.empty() ? "" : ", ") + r;
  send_template(ctx, message_id, to, cc,
                {{"person_id", std::to_string(person.person_id)},
                 {"verification_key", quote_plus(random_key)},
                 {"site_name", site_name},
                 {"first_name", person.first_name},
                 {"last_name", person.last_name},
                 {"email", person.email},
                 {"roles", roles}});
  ctx.touched("Person", person.person_id);
  ctx.message = message_id;
  if (key_expired)
    throw fault(fault_code::permission_denied,
                "Verification key has expired. Another email has been sent.");
  return xmlrpc_c::value_int(1);
}

xv reset_password(call_context& ctx, const args_t& args) {
  auto given_key = optional_text(args, 1, "verification_key");
  auto given_expires = optional_epoch(args, 2, "verification_expires");
  std::int64_t now = ctx.svc.clock->now_epoch();
  account person;
  {
    auto conn = ctx.svc.db->acquire();
    person = load_account(*conn, args[0]);
  }
  if (!person.enabled)
    throw fault(fault_code::invalid_argument, "Account must be enabled");
  // Be paranoid and deny password resets for admins (PLCAPI).
  if (person.has_role("admin"))
    throw fault(fault_code::invalid_argument, "Cannot reset admin passwords");
  std::string random_key = new_session_key();
  std::string message_id;
  if (given_key) {
    if (!person.verification_key || !person.verification_expires ||
        *person.verification_expires < now)
      throw fault(fault_code::permission_denied, "Verification key has expired");
    if (!same_key(*person.verification_key, *given_key))
      throw fault(fault_code::permission_denied, "Verification key incorrect");
    std::string hash = hash_password(random_key); // slow: outside any connection
    auto conn = ctx.svc.db->acquire();
    conn->exec("UPDATE persons SET password = $2, verification_key = NULL,"
               " verification_expires = NULL, last_updated = to_timestamp($3::bigint)"
               " WHERE person_id = $1",
               {std::to_string(person.person_id), hash, std::to_string(now)});
    message_id = "Password reset";
  } else {
    // Only one reset at a time.
    if (person.verification_expires && *person.verification_expires > now)
      throw fault(fault_code::permission_denied, "Password reset request already pending");
    auto conn = ctx.svc.db->acquire();
    set_verification(*conn, person.person_id, random_key,
                     given_expires.value_or(now + verification_seconds));
    message_id = "Password reset requested";
  }
  send_template(ctx, message_id, {person.address()}, {},
                {{"person_id", std::to_string(person.person_id)},
                 {"verification_key", quote_plus(random_key)},
                 {"password", random_key},
                 {"email", person.email}});
  ctx.touched("Person", person.person_id);
  ctx.message = message_id;
  return xmlrpc_c::value_int(1);
}

/// The person fields NotifyPersons may filter on (live accounts only).
const store::class_desc& notify_class() {
  static const store::class_desc cls{
      "Person",
      "persons",
      "person_id",
      "email",
      {
          {"person_id", field_type::integer},
          {"email", field_type::text},
          {"first_name", field_type::text},
          {"last_name", field_type::text},
          {"enabled", field_type::boolean},
      },
      "NOT t.deleted",
  };
  return cls;
}

xv notify_persons(call_context& ctx, const args_t& args) {
  if (args[1].type() != xv::TYPE_STRING || args[2].type() != xv::TYPE_STRING)
    throw fault::invalid_value("subject", "expected string");
  std::string subject = xmlrpc_c::value_string(args[1]).cvalue();
  std::string body = xmlrpc_c::value_string(args[2]).cvalue();
  std::vector<xv> rows;
  {
    auto conn = ctx.svc.db->acquire();
    auto found = get_objects(*conn, notify_class(), args[0], xmlrpc_c::value_nil());
    rows = xmlrpc_c::value_array(found).vectorValueValue();
  }
  if (rows.empty())
    throw fault(fault_code::invalid_argument, "No such user(s)");
  std::vector<mail_address> to;
  for (const auto& row : rows) {
    auto m = xmlrpc_c::value_struct(row).cvalue();
    to.push_back({xmlrpc_c::value_string(m.at("first_name")).cvalue() + " " +
                      xmlrpc_c::value_string(m.at("last_name")).cvalue(),
                  xmlrpc_c::value_string(m.at("email")).cvalue()});
    ctx.touched("Person", xmlrpc_c::value_int(m.at("person_id")).cvalue());
  }
  if (ctx.svc.mail) {
    try {
      ctx.svc.mail->send({ctx.svc.mail->sender(), to, {}, subject, body});
    } catch (const mail_error& e) {
      throw fault(fault_code::internal_error, std::string{"Error sending message: "} + e.what());
    }
  }
  ctx.message = subject;
  return xmlrpc_c::value_int(1);
}

} // namespace

void add_mail_methods(dispatcher& d) {
  const param_spec who{"person_id_or_email", xml_type::any};
  d.add({"VerifyPerson",
         {role::admin},
         {who,
          {"verification_key", xml_type::any, true},
          {"verification_expires", xml_type::any, true}},
         xml_type::integer,
         "Verifies a new (disabled) account's e-mail address. Without a key: stores a new "
         "key (valid 24 h or until verification_expires) and mails it to the person. With "
         "the stored key: clears it and asks the site's PIs (and support, for a PI) to enable "
         "the account. Returns 1.",
         verify_person});
  d.add({"ResetPassword",
         {role::admin},
         {who,
          {"verification_key", xml_type::any, true},
          {"verification_expires", xml_type::any, true}},
         xml_type::integer,
         "Without a key: stores a new key and mails the person a reset link. With the stored "
         "key: sets a random password and mails it. Not for admins. Returns 1.",
         reset_password});
  d.add({"NotifyPersons",
         {role::admin, role::node},
         {{"person_filter", xml_type::any},
          {"subject", xml_type::string},
          {"body", xml_type::string}},
         xml_type::integer,
         "Mails subject and body to the persons matching the filter (ids/e-mails or a "
         "struct). Returns 1.",
         notify_persons});
}

} // namespace pl::plc::api
