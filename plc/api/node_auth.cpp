#include "plc/api/node_auth.hpp"

#include "plc/api/fault.hpp"
#include "plc/api/mailer.hpp"
#include "plc/api/messages.hpp"
#include "plc/store/pool.hpp"

#include <openssl/crypto.h>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace pl::plc::api {

namespace {

using xv = xmlrpc_c::value;

const xv* member(const std::map<std::string, xv>& m, const std::string& key) {
  auto i = m.find(key);
  return i == m.end() ? nullptr : &i->second;
}

/// Sends `authfail` about a node whose call could not be authenticated; a
/// mail problem is logged and never replaces the authentication fault.
void notify_auth_failure(const services& svc, const std::string& peer, int node_id,
                         const fault& why) {
  try {
    call_context ctx{svc, peer, {}};
    notify_node_owners(ctx, node_id, "authfail", true, true, false, why.what());
  } catch (const std::exception& e) {
    spdlog::error("plc.api event=authfail_mail_failed node_id={} what={}", node_id, e.what());
  }
}

} // namespace

std::string canonical_scalar(const xv& v, float_text style) {
  auto text = pl::hmac::canonical_scalar(v, style);
  if (!text)
    throw fault(fault_code::authentication_failure, "Unsupported argument type for hmac");
  return std::move(*text);
}

std::string hmac_message(const std::vector<xv>& args, float_text style) {
  auto text = pl::hmac::message(args, style);
  if (!text)
    throw fault(fault_code::authentication_failure, "Unsupported argument type for hmac");
  return std::move(*text);
}

caller hmac_auth(const std::map<std::string, xv>& auth, const role_set& allowed,
                 const std::vector<xv>& args, const services& svc,
                 const std::string& peer_address) {
  std::string method = xmlrpc_c::value_string(auth.at("AuthMethod")).cvalue();
  const xv* node_id_v = member(auth, "node_id");
  const xv* value_v = member(auth, "value");
  if (!node_id_v)
    throw fault(fault_code::authentication_failure, "node_id not specified");
  if (node_id_v->type() != xv::TYPE_INT)
    throw fault(fault_code::authentication_failure, "node_id must be an int");
  if (!value_v)
    throw fault(fault_code::authentication_failure, "value not specified");
  if (value_v->type() != xv::TYPE_STRING)
    throw fault(fault_code::authentication_failure, "value must be a string");
  if (std::find(allowed.begin(), allowed.end(), role::node) == allowed.end())
    throw fault(fault_code::authentication_failure,
                "Not allowed to call method, missing 'node' role");
  int node_id = xmlrpc_c::value_int(*node_id_v).cvalue();
  std::string value = xmlrpc_c::value_string(*value_v).cvalue();

  std::optional<std::string> key;
  {
    auto db = svc.db->acquire();
    auto res = db->exec("SELECT key FROM nodes WHERE node_id = $1 AND NOT deleted",
                        {std::to_string(node_id)});
    if (res.rows() == 0)
      throw fault(fault_code::authentication_failure, "No such node");
    key = res.optional_text(0, 0);
  }
  if (!key || key->empty()) {
    fault why(fault_code::authentication_failure, "No node key");
    notify_auth_failure(svc, peer_address, node_id, why);
    throw why;
  }
  auto matches = [&](float_text style) {
    std::string expected = hmac_sha1_hex(*key, hmac_message(args, style));
    return expected.size() == value.size() &&
           CRYPTO_memcmp(expected.data(), value.data(), value.size()) == 0;
  };
  // Floats print differently in Python 2 (BootManager, NodeManager up to
  // 2.0, PLCAPI 4.x) and Python 3 (PLCAPI 5.x on): accept either spelling.
  bool ok = matches(float_text::python3) ||
            (std::any_of(args.begin(), args.end(),
                         [](const xv& a) { return pl::hmac::contains_double(a); }) &&
             matches(float_text::python2));
  if (!ok) {
    fault why(fault_code::authentication_failure, "Call could not be authenticated");
    notify_auth_failure(svc, peer_address, node_id, why);
    throw why;
  }
  return caller{method, std::nullopt, node_id, {role::node}, std::nullopt};
}

bool notify_node_owners(const call_context& ctx, int node_id, const std::string& message_id,
                        bool pis, bool techs, bool support, const std::string& fault_text) {
  std::vector<mail_address> to;
  std::string hostname;
  {
    auto conn = ctx.svc.db->acquire();
    auto node = conn->exec("SELECT hostname, site_id FROM nodes WHERE node_id = $1",
                           {std::to_string(node_id)});
    if (node.rows() == 0)
      throw fault(fault_code::invalid_argument, "No such node");
    hostname = std::string{node.text(0, 0)};
    std::string site_id{node.text(0, 1)};
    if (ctx.svc.mail) {
      const auto& id = ctx.svc.mail->identity();
      if (!id.boot_address.empty())
        to.push_back({"Boot Messages", id.boot_address});
      if (support && !id.support_address.empty())
        to.push_back({id.plc_name + " Support", id.support_address});
    }
    if (pis || techs) {
      std::vector<std::string> roles;
      if (pis)
        roles.push_back("20");
      if (techs)
        roles.push_back("40");
      auto people = conn->exec("SELECT p.first_name, p.last_name, p.email FROM persons p"
                               " JOIN person_site ps ON ps.person_id = p.person_id"
                               " WHERE ps.site_id = $1 AND p.enabled AND NOT p.deleted AND EXISTS"
                               " (SELECT 1 FROM person_role pr WHERE pr.person_id = p.person_id"
                               "  AND pr.role_id = ANY(('{' || $2 || '}')::integer[]))"
                               " ORDER BY p.person_id",
                               {site_id, roles.size() == 2 ? roles[0] + "," + roles[1] : roles[0]});
      for (int r = 0; r < people.rows(); ++r)
        to.push_back({std::string{people.text(r, 0)} + " " + std::string{people.text(r, 1)},
                      std::string{people.text(r, 2)}});
    }
  }
  if (to.empty()) {
    spdlog::info("plc.mail event=no_recipients message_id={} node_id={}", message_id, node_id);
    return false;
  }
  return send_template(
      ctx, message_id, to, {},
      {{"node_id", std::to_string(node_id)}, {"hostname", hostname}, {"fault", fault_text}});
}

} // namespace pl::plc::api
