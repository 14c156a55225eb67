#include "actors/sliver_tags.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include <caf/error.hpp>

#include "actors/errors.hpp"
#include "actors/resources.hpp"
#include "actors/rspec.hpp"

namespace pl {

namespace {

std::optional<std::int64_t> parse_int(std::string_view text) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && blank(text.back()))
    text.remove_suffix(1);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

// `out_of_range: cpu_pct=150 (allowed 0..100)`: the resource table's errors
// are all of category `pl` with a text context.
std::string describe(const caf::error& err) {
  if (err.category() != caf::atom("pl"))
    return caf::to_string(err);
  std::string out = to_string(static_cast<errc>(err.code()));
  if (err.context().match_elements<std::string>())
    out += ": " + err.context().get_as<std::string>(0);
  return out;
}

const named_script* find_script(const std::vector<named_script>& scripts, auto&& pred) {
  auto i = std::find_if(scripts.begin(), scripts.end(), pred);
  return i == scripts.end() ? nullptr : &*i;
}

} // namespace

std::optional<std::string>
apply_sliver_tags(sliver_spec& spec, const std::vector<std::pair<std::string, std::string>>& tags,
                  const std::vector<named_script>& scripts) {
  std::map<std::string, std::string> resource_tags;
  std::map<std::string, std::string> other;
  for (const auto& [name, value] : tags)
    (is_resource(name) ? resource_tags : other).emplace(name, value);
  auto resources = make_rspec(resource_tags);
  if (!resources)
    return "bad resource attribute: " + describe(resources.error());
  spec.resources = std::move(*resources);
  if (auto i = other.find("enabled"); i != other.end()) {
    auto v = parse_int(i->second);
    if (!v)
      return "attribute enabled=\"" + i->second + "\": not an integer";
    spec.enabled = *v > 0;
    other.erase(i);
  }
  if (auto i = other.find("vref"); i != other.end()) {
    if (!i->second.empty())
      spec.vref = i->second;
    other.erase(i);
  }
  if (auto i = other.find("delegations"); i != other.end()) {
    spec.delegations = parse_delegations(i->second);
    other.erase(i);
  }
  const named_script* script = nullptr;
  if (auto i = other.find("initscript_code"); i != other.end()) {
    spec.initscript = i->second;
  } else if (auto j = other.find("initscript"); j != other.end()) {
    script = find_script(scripts, [&](const named_script& s) { return s.name == j->second; });
  } else if (auto k = other.find("plc_initscript_id"); k != other.end()) {
    auto id = parse_int(k->second);
    script =
        find_script(scripts, [&](const named_script& s) { return id && s.initscript_id == *id; });
  }
  if (script != nullptr)
    spec.initscript = script->script;
  spec.attributes = std::move(other);
  return std::nullopt;
}

std::vector<std::string> parse_delegations(std::string_view text) {
  std::vector<std::string> result;
  std::string current;
  auto flush = [&] {
    if (!current.empty() && std::find(result.begin(), result.end(), current) == result.end())
      result.push_back(current);
    current.clear();
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')
      flush();
    else
      current += c;
  }
  flush();
  return result;
}

} // namespace pl
