#include "plc/cli/literal.hpp"

#include <cctype>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

namespace pl::plc::cli {

namespace {

using json = nlohmann::json;

bool starts_identifier(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}

bool continues_identifier(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// Rewrites Python spellings (True, False, None, single-quoted strings) into JSON; fills `error`
/// and returns nothing on a bare word or an unterminated string.
std::optional<std::string> to_json_text(std::string_view in, std::string& error) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    char c = in[i];
    if (c == '"') {
      std::size_t j = i + 1;
      while (j < in.size() && in[j] != '"')
        j += in[j] == '\\' ? 2 : 1;
      if (j >= in.size()) {
        error = "unterminated string";
        return std::nullopt;
      }
      out.append(in.substr(i, j + 1 - i));
      i = j + 1;
    } else if (c == '\'') {
      out.push_back('"');
      std::size_t j = i + 1;
      for (; j < in.size() && in[j] != '\''; ++j) {
        if (in[j] == '\\' && j + 1 < in.size()) {
          if (in[j + 1] == '\'')
            out.push_back('\'');
          else
            out.append(in.substr(j, 2));
          ++j;
        } else if (in[j] == '"') {
          out.append("\\\"");
        } else {
          out.push_back(in[j]);
        }
      }
      if (j >= in.size()) {
        error = "unterminated string";
        return std::nullopt;
      }
      out.push_back('"');
      i = j + 1;
    } else if (starts_identifier(c)) {
      std::size_t j = i;
      while (j < in.size() && continues_identifier(in[j]))
        ++j;
      auto word = in.substr(i, j - i);
      if (word == "True" || word == "true")
        out.append("true");
      else if (word == "False" || word == "false")
        out.append("false");
      else if (word == "None" || word == "null")
        out.append("null");
      else if ((word[0] == 'e' || word[0] == 'E') && i > 0 &&
               std::isdigit(static_cast<unsigned char>(in[i - 1])))
        out.append(word); // the exponent of a number such as 1e5; the JSON parser checks it
      else {
        error = "bare word '" + std::string{word} + "' inside a list or struct: quote it";
        return std::nullopt;
      }
      i = j;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

/// Converts parsed JSON into an XML-RPC value; fills `error` and returns nothing when a number
/// does not fit.
std::optional<xmlrpc_c::value> to_value(const json& j, std::string& error) {
  switch (j.type()) {
  case json::value_t::null:
    return xmlrpc_c::value_nil();
  case json::value_t::boolean:
    return xmlrpc_c::value_boolean(j.get<bool>());
  case json::value_t::number_integer: {
    auto n = j.get<std::int64_t>();
    if (n >= std::numeric_limits<int>::min() && n <= std::numeric_limits<int>::max())
      return xmlrpc_c::value_int(static_cast<int>(n));
    return xmlrpc_c::value_i8(n);
  }
  case json::value_t::number_unsigned: {
    auto n = j.get<std::uint64_t>();
    if (n <= static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
      return xmlrpc_c::value_int(static_cast<int>(n));
    if (n <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return xmlrpc_c::value_i8(static_cast<std::int64_t>(n));
    error = "integer " + std::to_string(n) + " does not fit in 64 bits";
    return std::nullopt;
  }
  case json::value_t::number_float:
    return xmlrpc_c::value_double(j.get<double>());
  case json::value_t::string:
    return xmlrpc_c::value_string(j.get<std::string>());
  case json::value_t::array: {
    std::vector<xmlrpc_c::value> items;
    for (const auto& item : j) {
      auto v = to_value(item, error);
      if (!v)
        return std::nullopt;
      items.push_back(*v);
    }
    return xmlrpc_c::value_array(items);
  }
  case json::value_t::object: {
    std::map<std::string, xmlrpc_c::value> fields;
    for (const auto& [key, item] : j.items()) {
      auto v = to_value(item, error);
      if (!v)
        return std::nullopt;
      fields.emplace(key, *v);
    }
    return xmlrpc_c::value_struct(fields);
  }
  default:
    error = "unsupported JSON value";
    return std::nullopt;
  }
}

parsed_literal failure(std::string_view text, std::string why) {
  parsed_literal r;
  r.error = "cannot read '" + std::string{text} + "': " + std::move(why);
  return r;
}

parsed_literal success(const xmlrpc_c::value& v) {
  parsed_literal r;
  r.ok = true;
  r.value = v;
  return r;
}

bool looks_like_number(std::string_view s) {
  if (s.empty())
    return false;
  std::size_t i = s[0] == '-' ? 1 : 0;
  return i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]));
}

} // namespace

parsed_literal parse_literal(std::string_view text) {
  auto trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())))
    trimmed.remove_prefix(1);
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.remove_suffix(1);

  bool structured = !trimmed.empty() && (trimmed.front() == '{' || trimmed.front() == '[' ||
                                         trimmed.front() == '"' || trimmed.front() == '\'');
  bool keyword = trimmed == "True" || trimmed == "False" || trimmed == "None" ||
                 trimmed == "true" || trimmed == "false" || trimmed == "null";
  if (!structured && !keyword) {
    if (looks_like_number(trimmed)) {
      auto j = json::parse(trimmed, nullptr, false);
      if (!j.is_discarded() && j.is_number()) {
        std::string error;
        if (auto v = to_value(j, error))
          return success(*v);
        return failure(text, error);
      }
    }
    return success(xmlrpc_c::value_string(std::string{text}));
  }

  std::string error;
  auto json_text = to_json_text(trimmed, error);
  if (!json_text)
    return failure(text, error);
  json j;
  try {
    j = json::parse(*json_text);
  } catch (const json::parse_error& e) {
    return failure(text, e.what());
  }
  auto v = to_value(j, error);
  if (!v)
    return failure(text, error);
  return success(*v);
}

} // namespace pl::plc::cli
