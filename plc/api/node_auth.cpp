#include "plc/api/node_auth.hpp"

#include "plc/api/fault.hpp"
#include "plc/api/mailer.hpp"
#include "plc/api/messages.hpp"
#include "plc/store/pool.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace pl::plc::api {

namespace {

using xv = xmlrpc_c::value;

/// Python 3's repr(float): the shortest round-tripping digits, positional
/// when the decimal point falls within [-4, 16) of the first digit, else
/// exponent form with at least two exponent digits; integral values get ".0".
std::string python3_float(double x) {
  if (std::isnan(x))
    return "nan";
  if (std::isinf(x))
    return x < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string sci(buf, res.ptr); // "-1.2345e+02", "1e+16", "0e+00"
  bool negative = sci[0] == '-';
  auto e = sci.find('e');
  std::string digits;
  for (std::size_t k = negative ? 1 : 0; k < e; ++k)
    if (sci[k] != '.')
      digits += sci[k];
  int exponent = std::stoi(sci.substr(e + 1));
  int point = exponent + 1; // digits before the decimal point
  std::string out;
  if (point <= -4 || point > 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1)
      out += "." + digits.substr(1);
    std::string exp = std::to_string(std::abs(exponent));
    if (exp.size() < 2)
      exp = "0" + exp;
    out += std::string{"e"} + (exponent < 0 ? "-" : "+") + exp;
  } else if (point <= 0) {
    out = "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  } else if (static_cast<std::size_t>(point) >= digits.size()) {
    out = digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0') + ".0";
  } else {
    out = digits.substr(0, static_cast<std::size_t>(point)) + "." +
          digits.substr(static_cast<std::size_t>(point));
  }
  return negative ? "-" + out : out;
}

/// Python 2's str(float)/unicode(float): "%.12g", with ".0" added when the
/// result looks like an integer.
std::string python2_float(double x) {
  if (std::isnan(x))
    return "nan";
  if (std::isinf(x))
    return x < 0 ? "-inf" : "inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", x);
  std::string out{buf};
  if (out.find_first_of(".e") == std::string::npos)
    out += ".0";
  return out;
}

std::string latin1_to_utf8(const std::vector<unsigned char>& bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

void flatten(const xv& v, float_text style, std::vector<std::string>& out) {
  switch (v.type()) {
  case xv::TYPE_ARRAY:
    for (const auto& item : xmlrpc_c::value_array(v).vectorValueValue())
      flatten(item, style, out);
    return;
  case xv::TYPE_STRUCT:
    // Only the values: PLCAPI never hashed the keys, whatever the old
    // BootManager documentation said.
    for (const auto& [key, item] : xmlrpc_c::value_struct(v).cvalue())
      flatten(item, style, out);
    return;
  default:
    out.push_back(canonical_scalar(v, style));
  }
}

bool contains_double(const xv& v) {
  switch (v.type()) {
  case xv::TYPE_DOUBLE:
    return true;
  case xv::TYPE_ARRAY:
    for (const auto& item : xmlrpc_c::value_array(v).vectorValueValue())
      if (contains_double(item))
        return true;
    return false;
  case xv::TYPE_STRUCT:
    for (const auto& [key, item] : xmlrpc_c::value_struct(v).cvalue())
      if (contains_double(item))
        return true;
    return false;
  default:
    return false;
  }
}

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
  switch (v.type()) {
  case xv::TYPE_STRING:
    return xmlrpc_c::value_string(v).cvalue();
  case xv::TYPE_INT:
    return std::to_string(xmlrpc_c::value_int(v).cvalue());
  case xv::TYPE_I8:
    return std::to_string(xmlrpc_c::value_i8(v).cvalue());
  case xv::TYPE_BOOLEAN:
    return xmlrpc_c::value_boolean(v).cvalue() ? "True" : "False";
  case xv::TYPE_DOUBLE: {
    double x = xmlrpc_c::value_double(v).cvalue();
    return style == float_text::python3 ? python3_float(x) : python2_float(x);
  }
  case xv::TYPE_NIL:
    return "None";
  case xv::TYPE_DATETIME: {
    xmlrpc_datetime t = xmlrpc_c::value_datetime(v);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04u%02u%02uT%02u:%02u:%02u", t.Y, t.M, t.D, t.h, t.m, t.s);
    return buf;
  }
  case xv::TYPE_BYTESTRING:
    return latin1_to_utf8(xmlrpc_c::value_bytestring(v).vectorUcharValue());
  default:
    throw fault(fault_code::authentication_failure, "Unsupported argument type for hmac");
  }
}

std::string hmac_message(const std::vector<xv>& args, float_text style) {
  std::vector<std::string> values;
  for (const auto& a : args)
    flatten(a, style, values);
  // std::string compares bytes as unsigned char, and UTF-8 byte order is
  // code point order: the same order as Python's sort of unicode strings.
  std::sort(values.begin(), values.end());
  std::string msg = "[";
  for (const auto& s : values)
    msg += s;
  msg += "]";
  return msg;
}

std::string hmac_sha1_hex(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &len))
    throw std::runtime_error("HMAC-SHA1 failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int k = 0; k < len; ++k) {
    out += hex[digest[k] >> 4];
    out += hex[digest[k] & 15];
  }
  return out;
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
  bool ok =
      matches(float_text::python3) ||
      (std::any_of(args.begin(), args.end(), contains_double) && matches(float_text::python2));
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
