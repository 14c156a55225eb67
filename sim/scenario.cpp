#include "sim/scenario.hpp"

#include "actors/resources.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace pl::sim {

namespace {

// ---------------------------------------------------------------------------
// Errors with file:line

struct reader {
  std::string file;

  [[noreturn]] void fail(int line, const std::string& what) const {
    throw scenario_error(file + ":" + std::to_string(line) + ": " + what);
  }

  [[noreturn]] void fail(const toml::node& n, const std::string& what) const {
    fail(static_cast<int>(n.source().begin.line), what);
  }

  /// Rejects keys the format does not know, so a typo is not silently ignored.
  void only_keys(const toml::table& t, const std::string& where,
                 std::initializer_list<std::string_view> known) const {
    for (const auto& [k, v] : t) {
      if (std::find(known.begin(), known.end(), k.str()) == known.end()) {
        std::string list;
        for (auto name : known)
          list += (list.empty() ? "" : ", ") + std::string{name};
        fail(v, where + ": unknown key '" + std::string{k.str()} + "' (known: " + list + ")");
      }
    }
  }

  std::int64_t integer(const toml::node& n, const std::string& where, std::int64_t lo,
                       std::int64_t hi) const {
    auto v = n.value<std::int64_t>();
    if (!n.is_integer() || !v)
      fail(n, where + ": expected an integer");
    if (*v < lo || *v > hi)
      fail(n, where + ": " + std::to_string(*v) + " is out of range " + std::to_string(lo) + ".." +
                  std::to_string(hi));
    return *v;
  }

  double number(const toml::node& n, const std::string& where, double lo, double hi) const {
    if (!n.is_number())
      fail(n, where + ": expected a number");
    double v = *n.value<double>();
    if (!(v >= lo && v <= hi))
      fail(n, where + ": " + std::to_string(v) + " is out of range");
    return v;
  }

  std::string string(const toml::node& n, const std::string& where) const {
    if (!n.is_string())
      fail(n, where + ": expected a string");
    return *n.value<std::string>();
  }

  sim_seconds duration(const toml::node& n, const std::string& where) const {
    if (n.is_integer()) {
      auto v = *n.value<std::int64_t>();
      if (v < 0)
        fail(n, where + ": a duration cannot be negative");
      return v;
    }
    if (n.is_string()) {
      auto text = *n.value<std::string>();
      if (auto d = parse_duration(text))
        return *d;
      fail(n, where + ": '" + text + "' is not a duration (e.g. 90, \"30s\", \"10m\", \"2h\", " +
                  "\"3d\")");
    }
    fail(n, where + ": expected a duration (seconds or a string such as \"10m\")");
  }

  std::map<std::string, std::string> tags(const toml::node& n, const std::string& where) const {
    const auto* t = n.as_table();
    if (!t)
      fail(n, where + ": expected a table of tag = value");
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : *t) {
      std::string name{k.str()};
      if (v.is_string())
        out[name] = *v.value<std::string>();
      else if (v.is_integer())
        out[name] = std::to_string(*v.value<std::int64_t>());
      else
        fail(v, where + "." + name + ": a tag value is a string or an integer");
    }
    return out;
  }

  node_selector selector(const toml::node& n, const std::string& where) const {
    node_selector s;
    if (n.is_integer()) {
      s.how = node_selector::kind::count;
      s.count = integer(n, where, 0, 10'000'000);
      s.text = std::to_string(s.count);
      return s;
    }
    if (const auto* arr = n.as_array()) {
      s.how = node_selector::kind::indices;
      for (const auto& e : *arr)
        s.indices.push_back(static_cast<int>(integer(e, where + "[]", 0, 10'000'000)));
      std::ostringstream text;
      text << "[";
      for (std::size_t i = 0; i < s.indices.size(); ++i)
        text << (i ? "," : "") << s.indices[i];
      text << "]";
      s.text = text.str();
      return s;
    }
    if (!n.is_string())
      fail(n, where + ": expected \"all\", a count, \"N%\", \"a-b,c\", a list or \"group:NAME\"");
    auto text = *n.value<std::string>();
    s.text = text;
    if (text == "all")
      return s;
    if (text.rfind("group:", 0) == 0) {
      s.how = node_selector::kind::group;
      s.group = text.substr(6);
      if (s.group.empty())
        fail(n, where + ": 'group:' needs a group name");
      return s;
    }
    if (!text.empty() && text.back() == '%') {
      char* end = nullptr;
      auto body = text.substr(0, text.size() - 1);
      double p = std::strtod(body.c_str(), &end);
      if (body.empty() || *end != '\0' || !(p >= 0 && p <= 100))
        fail(n, where + ": '" + text + "' is not a percentage 0%..100%");
      s.how = node_selector::kind::percent;
      s.percent = p;
      return s;
    }
    // Ranges: "0-49,60,70-79".
    s.how = node_selector::kind::indices;
    std::stringstream parts{text};
    std::string part;
    while (std::getline(parts, part, ',')) {
      auto dash = part.find('-');
      auto num = [&](const std::string& t) {
        if (t.empty() ||
            !std::all_of(t.begin(), t.end(),
                         [](unsigned char c) { return std::isdigit(c) != 0; }) ||
            t.size() > 8)
          fail(n, where + ": '" + text + "' is not a node selection (\"all\", \"N%\", " +
                      "\"a-b,c\", \"group:NAME\")");
        return std::stoi(t);
      };
      if (dash == std::string::npos) {
        s.indices.push_back(num(part));
      } else {
        int a = num(part.substr(0, dash)), b = num(part.substr(dash + 1));
        if (b < a)
          fail(n, where + ": range '" + part + "' runs backwards");
        for (int i = a; i <= b; ++i)
          s.indices.push_back(i);
      }
    }
    if (s.indices.empty())
      fail(n, where + ": empty node selection");
    return s;
  }
};

const toml::node* get(const toml::table& t, std::string_view key) {
  return t.get(key);
}

bool valid_slice_name(const std::string& name) {
  // PLC: <login_base>_<rest>, lower case letters, digits and '_'.
  auto us = name.find('_');
  if (us == std::string::npos || us == 0 || us + 1 == name.size() || name.size() > 64)
    return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '_';
  });
}

const std::vector<std::pair<std::string_view, event_kind>>& event_names() {
  static const std::vector<std::pair<std::string_view, event_kind>> names = {
      {"create_slice", event_kind::create_slice},
      {"delete_slice", event_kind::delete_slice},
      {"add_slice_to_nodes", event_kind::add_slice_to_nodes},
      {"delete_slice_from_nodes", event_kind::delete_slice_from_nodes},
      {"set_tag", event_kind::set_tag},
      {"renew_slice", event_kind::renew_slice},
      {"crash", event_kind::crash},
      {"reboot", event_kind::reboot},
      {"plc_outage", event_kind::plc_outage},
      {"partition", event_kind::partition},
      {"break_node", event_kind::break_node},
      {"redeem_ticket", event_kind::redeem_ticket},
      {"set_loans", event_kind::set_loans},
  };
  return names;
}

} // namespace

std::string_view to_string(event_kind k) {
  for (const auto& [name, kind] : event_names())
    if (kind == k)
      return name;
  return "?";
}

std::optional<sim_seconds> parse_duration(std::string_view text) {
  if (text.empty())
    return std::nullopt;
  sim_seconds total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
      ++i;
    if (i == start || i - start > 12)
      return std::nullopt;
    sim_seconds n = std::stoll(std::string{text.substr(start, i - start)});
    sim_seconds unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        return std::nullopt;
      }
      ++i;
    } else if (any) {
      return std::nullopt; // "1h30" is ambiguous
    }
    total += n * unit;
    any = true;
  }
  return total;
}

std::string format_duration(sim_seconds s) {
  if (s == 0)
    return "0s";
  std::string out = s < 0 ? "-" : "";
  s = std::llabs(s);
  const std::pair<sim_seconds, char> units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (auto [unit, c] : units) {
    if (s >= unit) {
      out += std::to_string(s / unit) + c;
      s %= unit;
    }
  }
  return out;
}

std::string scenario::login_base(int site) const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", site);
  return site_prefix + buf;
}

std::string scenario::hostname(int node) const {
  return "node" + std::to_string(node) + "." + login_base(site_of_node(node)) + ".sim";
}

std::vector<int> resolve(const node_selector& sel, const scenario& sc, std::mt19937_64& rng) {
  const int n = sc.nodes;
  std::vector<int> out;
  auto draw = [&](std::int64_t k) {
    k = std::clamp<std::int64_t>(k, 0, n);
    // Partial Fisher-Yates over the indices: uniform, deterministic for a seed.
    std::vector<int> all(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
      all[static_cast<std::size_t>(i)] = i;
    for (std::int64_t i = 0; i < k; ++i) {
      std::uniform_int_distribution<std::int64_t> pick(i, n - 1);
      std::swap(all[static_cast<std::size_t>(i)], all[static_cast<std::size_t>(pick(rng))]);
    }
    all.resize(static_cast<std::size_t>(k));
    return all;
  };
  switch (sel.how) {
  case node_selector::kind::all:
    for (int i = 0; i < n; ++i)
      out.push_back(i);
    break;
  case node_selector::kind::count:
    out = draw(sel.count);
    break;
  case node_selector::kind::percent:
    out = draw(static_cast<std::int64_t>(std::llround(sel.percent * n / 100.0)));
    break;
  case node_selector::kind::indices:
    for (int i : sel.indices) {
      if (i >= n)
        throw scenario_error(sc.file + ": node " + std::to_string(i) + " of '" + sel.text +
                             "' is beyond the scenario's " + std::to_string(n) + " nodes");
      out.push_back(i);
    }
    break;
  case node_selector::kind::group: {
    auto it = sc.groups.find(sel.group);
    if (it == sc.groups.end())
      throw scenario_error(sc.file + ": unknown node group '" + sel.group + "'");
    if (it->second.how == node_selector::kind::group)
      throw scenario_error(sc.file + ": group '" + sel.group + "' names another group");
    out = resolve(it->second, sc, rng);
    break;
  }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

scenario parse_scenario(std::string_view text, const std::string& file_name,
                        const scenario_overrides& overrides) {
  reader r{file_name};
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    r.fail(static_cast<int>(e.source().begin.line), std::string{e.description()});
  }
  r.only_keys(root, "scenario file",
              {"scenario", "testbed", "groups", "slices", "slice_set", "timeline", "churn"});

  scenario sc;
  sc.file = file_name;

  const auto* head = root["scenario"].as_table();
  if (!head)
    r.fail(1, "missing [scenario] table (name, duration, ...)");
  r.only_keys(
      *head, "[scenario]",
      {"name", "description", "seed", "duration", "quiet", "poll_interval", "latency_ms", "push"});
  if (auto n = get(*head, "name"))
    sc.name = r.string(*n, "scenario.name");
  else
    r.fail(static_cast<int>(head->source().begin.line), "[scenario]: 'name' is required");
  if (auto n = get(*head, "description"))
    sc.description = r.string(*n, "scenario.description");
  if (auto n = get(*head, "seed"))
    sc.seed = static_cast<std::uint64_t>(r.integer(*n, "scenario.seed", 0, INT64_MAX));
  if (auto n = get(*head, "duration"))
    sc.duration = r.duration(*n, "scenario.duration");
  if (auto n = get(*head, "quiet"))
    sc.quiet = r.duration(*n, "scenario.quiet");
  if (auto n = get(*head, "poll_interval")) {
    sc.poll_interval = r.duration(*n, "scenario.poll_interval");
    if (sc.poll_interval < 1)
      r.fail(*n, "scenario.poll_interval: must be at least 1s");
  }
  if (auto n = get(*head, "latency_ms"))
    sc.latency_ms = r.number(*n, "scenario.latency_ms", 0, 60'000);
  if (auto n = get(*head, "push")) {
    if (!n->is_boolean())
      r.fail(*n, "scenario.push: expected true or false");
    sc.push = *n->value<bool>();
  }

  int nodes_per_site = 0;
  if (const auto* tb = root["testbed"].as_table()) {
    r.only_keys(*tb, "[testbed]",
                {"sites", "site_prefix", "nodes", "nodes_per_site", "persons_per_site",
                 "cpu_reservable", "bandwidth_kbps", "disk_kb"});
    if (auto n = get(*tb, "sites"))
      sc.sites = static_cast<int>(r.integer(*n, "testbed.sites", 1, 100'000));
    if (auto n = get(*tb, "site_prefix")) {
      sc.site_prefix = r.string(*n, "testbed.site_prefix");
      if (sc.site_prefix.empty() || sc.site_prefix.size() > 16 ||
          !valid_slice_name(sc.site_prefix + "_x") || sc.site_prefix.find('_') != std::string::npos)
        r.fail(*n, "testbed.site_prefix: lower-case letters and digits, at most 16");
    }
    if (auto n = get(*tb, "nodes"))
      sc.nodes = static_cast<int>(r.integer(*n, "testbed.nodes", 1, 1'000'000));
    if (auto n = get(*tb, "nodes_per_site"))
      nodes_per_site = static_cast<int>(r.integer(*n, "testbed.nodes_per_site", 1, 10'000));
    if (auto n = get(*tb, "persons_per_site"))
      sc.persons_per_site = static_cast<int>(r.integer(*n, "testbed.persons_per_site", 0, 1000));
    if (auto n = get(*tb, "cpu_reservable"))
      sc.capacity.cpu_reservable = r.number(*n, "testbed.cpu_reservable", 0, 1);
    if (auto n = get(*tb, "bandwidth_kbps"))
      sc.capacity.bandwidth_kbps = r.integer(*n, "testbed.bandwidth_kbps", 1, INT64_MAX);
    if (auto n = get(*tb, "disk_kb"))
      sc.capacity.disk_kb = r.integer(*n, "testbed.disk_kb", 0, INT64_MAX);
    if (get(*tb, "sites") && nodes_per_site)
      r.fail(*tb, "[testbed]: give 'sites' or 'nodes_per_site', not both");
  } else if (root.contains("testbed")) {
    r.fail(*root.get("testbed"), "'testbed' must be a table");
  }
  if (overrides.nodes) {
    if (*overrides.nodes < 1)
      throw scenario_error(file_name + ": --nodes must be at least 1");
    sc.nodes = *overrides.nodes;
  }
  if (overrides.seed)
    sc.seed = *overrides.seed;
  if (overrides.duration)
    sc.duration = *overrides.duration;
  if (nodes_per_site)
    sc.sites = std::max(1, (sc.nodes + nodes_per_site - 1) / nodes_per_site);
  if (sc.sites > sc.nodes)
    r.fail(
        static_cast<int>(root["testbed"].node() ? root["testbed"].node()->source().begin.line : 1),
        "[testbed]: " + std::to_string(sc.sites) + " sites for " + std::to_string(sc.nodes) +
            " nodes: every site needs a node");

  if (auto* groups = root["groups"].as_table()) {
    for (const auto& [k, v] : *groups) {
      auto sel = r.selector(v, "groups." + std::string{k.str()});
      if (sel.how == node_selector::kind::group)
        r.fail(v, "groups." + std::string{k.str()} + ": a group cannot name another group");
      sc.groups[std::string{k.str()}] = sel;
    }
  }

  std::set<std::string> slice_names;
  auto read_slice_name = [&](const toml::node& n, const std::string& where) {
    auto name = r.string(n, where);
    if (!valid_slice_name(name))
      r.fail(n, where + ": '" + name +
                    "' is not a slice name (<site>_<name>: lower-case letters, digits, '_')");
    return name;
  };
  auto check_site = [&](const toml::node& n, const std::string& name, const std::string& where) {
    auto base = name.substr(0, name.find('_'));
    for (int s = 0; s < sc.sites; ++s)
      if (sc.login_base(s) == base)
        return;
    r.fail(n, where + ": slice '" + name + "' names site '" + base +
                  "', which the testbed does not have (sites are " + sc.login_base(0) + ".." +
                  sc.login_base(sc.sites - 1) + ")");
  };
  auto check_selector = [&](const toml::node& n, const node_selector& sel,
                            const std::string& where) {
    if (sel.how == node_selector::kind::group && !sc.groups.count(sel.group))
      r.fail(n, where + ": unknown node group '" + sel.group + "'");
    for (int i : sel.indices)
      if (i >= sc.nodes)
        r.fail(n, where + ": node " + std::to_string(i) + " is beyond the testbed's " +
                      std::to_string(sc.nodes) + " nodes (0.." + std::to_string(sc.nodes - 1) +
                      ")");
  };
  auto check_instantiation = [&](const toml::node& n, const std::string& v,
                                 const std::string& where) {
    static const std::set<std::string> known = {"plc-instantiated", "delegated", "nm-controller",
                                                "not-instantiated"};
    if (!known.count(v))
      r.fail(n, where + ": unknown instantiation '" + v + "'");
  };

  if (auto* slices = root["slices"].as_array()) {
    int i = 0;
    for (const auto& item : *slices) {
      std::string where = "slices[" + std::to_string(i++) + "]";
      const auto* t = item.as_table();
      if (!t)
        r.fail(item, where + ": expected a table ([[slices]])");
      r.only_keys(*t, where, {"name", "nodes", "tags", "instantiation", "lifetime"});
      slice_decl s;
      s.line = static_cast<int>(t->source().begin.line);
      auto name = get(*t, "name");
      if (!name)
        r.fail(*t, where + ": 'name' is required");
      s.name = read_slice_name(*name, where + ".name");
      check_site(*name, s.name, where + ".name");
      if (!slice_names.insert(s.name).second)
        r.fail(*name, where + ".name: slice '" + s.name + "' is declared twice");
      if (auto n = get(*t, "nodes")) {
        s.nodes = r.selector(*n, where + ".nodes");
        check_selector(*n, s.nodes, where + ".nodes");
      }
      if (auto n = get(*t, "tags"))
        s.tags = r.tags(*n, where + ".tags");
      if (auto n = get(*t, "instantiation")) {
        s.instantiation = r.string(*n, where + ".instantiation");
        check_instantiation(*n, s.instantiation, where + ".instantiation");
      }
      if (auto n = get(*t, "lifetime"))
        s.lifetime = r.duration(*n, where + ".lifetime");
      sc.slices.push_back(std::move(s));
    }
  } else if (root.contains("slices")) {
    r.fail(*root.get("slices"), "'slices' must be an array of tables ([[slices]])");
  }

  if (auto* set = root["slice_set"].as_table()) {
    r.only_keys(*set, "[slice_set]",
                {"count", "nodes_per_slice", "spread", "prefix", "tags", "lifetime"});
    auto& g = sc.generated;
    g.line = static_cast<int>(set->source().begin.line);
    if (auto n = get(*set, "count"))
      g.count = static_cast<int>(r.integer(*n, "slice_set.count", 0, 1'000'000));
    if (auto n = get(*set, "nodes_per_slice")) {
      auto sel = r.selector(*n, "slice_set.nodes_per_slice");
      if (sel.how == node_selector::kind::count)
        g.nodes_per_slice = static_cast<int>(sel.count);
      else if (sel.how == node_selector::kind::percent)
        g.nodes_percent = sel.percent;
      else
        r.fail(*n, "slice_set.nodes_per_slice: expected a count or \"N%\"");
    }
    if (auto n = get(*set, "spread"))
      g.spread = static_cast<int>(r.integer(*n, "slice_set.spread", 0, 1'000'000));
    if (auto n = get(*set, "prefix")) {
      g.prefix = r.string(*n, "slice_set.prefix");
      if (!valid_slice_name("x_" + g.prefix) || g.prefix.size() > 20)
        r.fail(*n, "slice_set.prefix: lower-case letters, digits and '_', at most 20");
    }
    if (auto n = get(*set, "tags"))
      g.tags = r.tags(*n, "slice_set.tags");
    if (auto n = get(*set, "lifetime"))
      g.lifetime = r.duration(*n, "slice_set.lifetime");
    if (g.spread > g.nodes_per_slice)
      r.fail(*set, "[slice_set]: spread is larger than nodes_per_slice");
  }

  if (auto* tl = root["timeline"].as_array()) {
    int i = 0;
    sim_seconds last = 0;
    for (const auto& item : *tl) {
      std::string where = "timeline[" + std::to_string(i++) + "]";
      const auto* t = item.as_table();
      if (!t)
        r.fail(item, where + ": expected a table ([[timeline]])");
      timeline_event e;
      e.line = static_cast<int>(t->source().begin.line);
      auto at = get(*t, "at");
      if (!at)
        r.fail(*t, where + ": 'at' is required");
      e.at = r.duration(*at, where + ".at");
      if (e.at > sc.duration)
        r.fail(*at, where + ".at: " + format_duration(e.at) + " is after the scenario's end (" +
                        format_duration(sc.duration) + ")");
      if (e.at < last)
        r.fail(*at, where + ".at: events must be in time order (previous at " +
                        format_duration(last) + ")");
      last = e.at;
      auto ev = get(*t, "event");
      if (!ev)
        r.fail(*t, where + ": 'event' is required");
      auto ev_name = r.string(*ev, where + ".event");
      bool found = false;
      for (const auto& [name, kind] : event_names())
        if (name == ev_name) {
          e.kind = kind;
          found = true;
        }
      if (!found) {
        std::string list;
        for (const auto& [name, kind] : event_names())
          list += (list.empty() ? "" : ", ") + std::string{name};
        r.fail(*ev, where + ".event: unknown event '" + ev_name + "' (known: " + list + ")");
      }
      auto need = [&](std::string_view key) -> const toml::node& {
        auto n = get(*t, key);
        if (!n)
          r.fail(*t, where + ": event " + ev_name + " needs '" + std::string{key} + "'");
        return *n;
      };
      auto slice_key = [&] {
        const auto& n = need("slice");
        e.slice = read_slice_name(n, where + ".slice");
        check_site(n, e.slice, where + ".slice");
      };
      auto nodes_key = [&](bool required) {
        if (!required && !get(*t, "nodes"))
          return;
        const auto& n = need("nodes");
        e.nodes = r.selector(n, where + ".nodes");
        check_selector(n, e.nodes, where + ".nodes");
      };
      auto duration_key = [&](bool required) {
        if (!required && !get(*t, "duration"))
          return;
        e.duration = r.duration(need("duration"), where + ".duration");
        if (e.duration <= 0)
          r.fail(need("duration"), where + ".duration: must be positive");
      };
      switch (e.kind) {
      case event_kind::create_slice:
        r.only_keys(*t, where, {"at", "event", "slice", "nodes", "tags", "lifetime"});
        slice_key();
        nodes_key(false);
        if (auto n = get(*t, "tags"))
          e.tags = r.tags(*n, where + ".tags");
        if (auto n = get(*t, "lifetime"))
          e.lifetime = r.duration(*n, where + ".lifetime");
        break;
      case event_kind::delete_slice:
        r.only_keys(*t, where, {"at", "event", "slice"});
        slice_key();
        break;
      case event_kind::add_slice_to_nodes:
      case event_kind::delete_slice_from_nodes:
        r.only_keys(*t, where, {"at", "event", "slice", "nodes"});
        slice_key();
        nodes_key(true);
        break;
      case event_kind::set_tag:
        r.only_keys(*t, where, {"at", "event", "slice", "tag", "value"});
        slice_key();
        e.tag = r.string(need("tag"), where + ".tag");
        if (auto n = get(*t, "value")) {
          if (n->is_integer())
            e.value = std::to_string(*n->value<std::int64_t>());
          else
            e.value = r.string(*n, where + ".value");
        }
        break;
      case event_kind::renew_slice:
        r.only_keys(*t, where, {"at", "event", "slice", "lifetime"});
        slice_key();
        e.lifetime = r.duration(need("lifetime"), where + ".lifetime");
        break;
      case event_kind::crash:
        r.only_keys(*t, where, {"at", "event", "nodes", "duration"});
        nodes_key(true);
        duration_key(false);
        break;
      case event_kind::reboot:
      case event_kind::break_node:
        r.only_keys(*t, where, {"at", "event", "nodes"});
        nodes_key(true);
        break;
      case event_kind::plc_outage:
        r.only_keys(*t, where, {"at", "event", "duration"});
        duration_key(true);
        break;
      case event_kind::partition:
        r.only_keys(*t, where, {"at", "event", "nodes", "duration"});
        nodes_key(true);
        duration_key(true);
        break;
      case event_kind::redeem_ticket:
        r.only_keys(*t, where, {"at", "event", "slice", "nodes", "broker"});
        slice_key();
        nodes_key(true);
        if (auto n = get(*t, "broker")) {
          e.broker = read_slice_name(*n, where + ".broker");
          check_site(*n, e.broker, where + ".broker");
        }
        break;
      case event_kind::set_loans: {
        r.only_keys(*t, where, {"at", "event", "slice", "nodes", "loans"});
        slice_key();
        nodes_key(true);
        const auto& list = need("loans");
        const auto* arr = list.as_array();
        if (!arr)
          r.fail(list, where + ".loans: expected a list of [to, resource, amount]");
        int k = 0;
        for (const auto& item : *arr) {
          auto at_k = where + ".loans[" + std::to_string(k++) + "]";
          const auto* one = item.as_array();
          if (!one || one->size() != 3)
            r.fail(item, at_k + ": expected [to, resource, amount]");
          loan_decl l;
          l.to = read_slice_name(*one->get(0), at_k + ".to");
          check_site(*one->get(0), l.to, at_k + ".to");
          l.resource = r.string(*one->get(1), at_k + ".resource");
          if (!pl::is_resource(l.resource))
            r.fail(*one->get(1), at_k + ".resource: unknown resource '" + l.resource + "'");
          l.amount = r.integer(*one->get(2), at_k + ".amount", 0,
                               std::numeric_limits<std::int64_t>::max());
          e.loans.push_back(std::move(l));
        }
        break;
      }
      }
      sc.timeline.push_back(std::move(e));
    }
  } else if (root.contains("timeline")) {
    r.fail(*root.get("timeline"), "'timeline' must be an array of tables ([[timeline]])");
  }

  if (auto* churn = root["churn"].as_array()) {
    int i = 0;
    for (const auto& item : *churn) {
      std::string where = "churn[" + std::to_string(i++) + "]";
      const auto* t = item.as_table();
      if (!t)
        r.fail(item, where + ": expected a table ([[churn]])");
      r.only_keys(*t, where,
                  {"kind", "per_hour", "from", "until", "down", "nodes_per_slice", "slice_life",
                   "tag", "values"});
      churn_decl c;
      c.line = static_cast<int>(t->source().begin.line);
      auto kind = get(*t, "kind");
      if (!kind)
        r.fail(*t, where + ": 'kind' is required (crash, slice, tag)");
      auto k = r.string(*kind, where + ".kind");
      if (k == "crash")
        c.what = churn_decl::kind::crash;
      else if (k == "slice")
        c.what = churn_decl::kind::slice;
      else if (k == "tag")
        c.what = churn_decl::kind::tag;
      else
        r.fail(*kind, where + ".kind: unknown churn '" + k + "' (crash, slice, tag)");
      auto rate = get(*t, "per_hour");
      if (!rate)
        r.fail(*t, where + ": 'per_hour' is required");
      c.per_hour = r.number(*rate, where + ".per_hour", 0, 1e7);
      if (auto n = get(*t, "from"))
        c.from = r.duration(*n, where + ".from");
      if (auto n = get(*t, "until"))
        c.until = r.duration(*n, where + ".until");
      if (c.until == 0 || c.until > sc.duration)
        c.until = sc.duration;
      if (c.from > c.until)
        r.fail(*t, where + ": 'from' is after 'until'");
      if (auto n = get(*t, "down"))
        c.down = r.duration(*n, where + ".down");
      if (auto n = get(*t, "nodes_per_slice"))
        c.nodes_per_slice =
            static_cast<int>(r.integer(*n, where + ".nodes_per_slice", 1, 1'000'000));
      if (auto n = get(*t, "slice_life"))
        c.slice_life = r.duration(*n, where + ".slice_life");
      if (auto n = get(*t, "tag"))
        c.tag = r.string(*n, where + ".tag");
      if (auto n = get(*t, "values")) {
        const auto* arr = n->as_array();
        if (!arr || arr->empty())
          r.fail(*n, where + ".values: expected a non-empty list of values");
        for (const auto& v : *arr)
          c.values.push_back(v.is_integer() ? std::to_string(*v.value<std::int64_t>())
                                            : r.string(v, where + ".values[]"));
      }
      if (c.what == churn_decl::kind::tag && c.values.empty())
        r.fail(*t, where + ": tag churn needs 'values'");
      sc.churn.push_back(std::move(c));
    }
  } else if (root.contains("churn")) {
    r.fail(*root.get("churn"), "'churn' must be an array of tables ([[churn]])");
  }
  return sc;
}

scenario load_scenario(const std::filesystem::path& path, const scenario_overrides& overrides) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw scenario_error(path.string() + ": cannot read the scenario file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_scenario(buf.str(), path.string(), overrides);
}

} // namespace pl::sim
