#include "plc/cli/pretty.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pl::plc::cli {

namespace {

using json = nlohmann::json;

std::string base64(const std::vector<unsigned char>& bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    std::uint32_t n = bytes[i] << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    std::uint32_t n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

json to_json(const xmlrpc_c::value& v) {
  switch (v.type()) {
  case xmlrpc_c::value::TYPE_INT:
    return xmlrpc_c::value_int(v).cvalue();
  case xmlrpc_c::value::TYPE_I8:
    return static_cast<std::int64_t>(xmlrpc_c::value_i8(v).cvalue());
  case xmlrpc_c::value::TYPE_BOOLEAN:
    return xmlrpc_c::value_boolean(v).cvalue();
  case xmlrpc_c::value::TYPE_DOUBLE:
    return xmlrpc_c::value_double(v).cvalue();
  case xmlrpc_c::value::TYPE_DATETIME:
    return xmlrpc_c::value_datetime(v).iso8601Value();
  case xmlrpc_c::value::TYPE_STRING:
    return xmlrpc_c::value_string(v).cvalue();
  case xmlrpc_c::value::TYPE_BYTESTRING:
    return base64(xmlrpc_c::value_bytestring(v).vectorUcharValue());
  case xmlrpc_c::value::TYPE_ARRAY: {
    json out = json::array();
    for (const auto& item : xmlrpc_c::value_array(v).vectorValueValue())
      out.push_back(to_json(item));
    return out;
  }
  case xmlrpc_c::value::TYPE_STRUCT: {
    json out = json::object();
    for (const auto& [key, item] : xmlrpc_c::value_struct(v).cvalue())
      out[key] = to_json(item);
    return out;
  }
  case xmlrpc_c::value::TYPE_NIL:
    return nullptr;
  default:
    return "<unprintable XML-RPC value>";
  }
}

} // namespace

std::string pretty(const xmlrpc_c::value& value) {
  return to_json(value).dump(2, ' ', false, json::error_handler_t::replace);
}

} // namespace pl::plc::cli
