#include "actors/node_hmac.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace pl::hmac {

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

bool flatten(const xv& v, float_text style, std::vector<std::string>& out) {
  switch (v.type()) {
  case xv::TYPE_ARRAY:
    for (const auto& item : xmlrpc_c::value_array(v).vectorValueValue())
      if (!flatten(item, style, out))
        return false;
    return true;
  case xv::TYPE_STRUCT:
    // Only the values: PLCAPI never hashed the keys, whatever the old
    // BootManager documentation said.
    for (const auto& [key, item] : xmlrpc_c::value_struct(v).cvalue())
      if (!flatten(item, style, out))
        return false;
    return true;
  default:
    if (auto text = canonical_scalar(v, style)) {
      out.push_back(std::move(*text));
      return true;
    }
    return false;
  }
}

} // namespace

std::optional<std::string> canonical_scalar(const xv& v, float_text style) {
  switch (v.type()) {
  case xv::TYPE_STRING:
    return xmlrpc_c::value_string(v).cvalue();
  case xv::TYPE_INT:
    return std::to_string(xmlrpc_c::value_int(v).cvalue());
  case xv::TYPE_I8:
    return std::to_string(xmlrpc_c::value_i8(v).cvalue());
  case xv::TYPE_BOOLEAN:
    return std::string{xmlrpc_c::value_boolean(v).cvalue() ? "True" : "False"};
  case xv::TYPE_DOUBLE: {
    double x = xmlrpc_c::value_double(v).cvalue();
    return style == float_text::python3 ? python3_float(x) : python2_float(x);
  }
  case xv::TYPE_NIL:
    return std::string{"None"};
  case xv::TYPE_DATETIME: {
    xmlrpc_datetime t = xmlrpc_c::value_datetime(v);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04u%02u%02uT%02u:%02u:%02u", t.Y, t.M, t.D, t.h, t.m, t.s);
    return std::string{buf};
  }
  case xv::TYPE_BYTESTRING:
    return latin1_to_utf8(xmlrpc_c::value_bytestring(v).vectorUcharValue());
  default:
    return std::nullopt;
  }
}

std::optional<std::string> message(const std::vector<xv>& args, float_text style) {
  std::vector<std::string> values;
  for (const auto& a : args)
    if (!flatten(a, style, values))
      return std::nullopt;
  // std::string compares bytes as unsigned char, and UTF-8 byte order is
  // code point order: the same order as Python's sort of unicode strings.
  std::sort(values.begin(), values.end());
  std::string msg = "[";
  for (const auto& s : values)
    msg += s;
  msg += "]";
  return msg;
}

std::string sha1_hex(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &len)) {
    // Only an OpenSSL without SHA-1 fails here: nothing to recover.
    std::fputs("pl: HMAC-SHA1 is not available in this OpenSSL\n", stderr);
    std::abort();
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int k = 0; k < len; ++k) {
    out += hex[digest[k] >> 4];
    out += hex[digest[k] & 15];
  }
  return out;
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

std::optional<xv> node_auth(std::int32_t node_id, std::string_view node_key,
                            const std::vector<xv>& args) {
  auto text = message(args);
  if (!text)
    return std::nullopt;
  std::map<std::string, xv> auth{
      {"AuthMethod", xmlrpc_c::value_string("hmac")},
      {"node_id", xmlrpc_c::value_int(node_id)},
      {"value", xmlrpc_c::value_string(sha1_hex(node_key, *text))},
  };
  return xv{xmlrpc_c::value_struct(auth)};
}

} // namespace pl::hmac
