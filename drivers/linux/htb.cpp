#include "drivers/linux/htb.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "actors/errors.hpp"
#include "drivers/knobs.hpp"
#include "drivers/linux/exec.hpp"
#include "drivers/mechanism_driver.hpp"

namespace pl::drivers::linux_net {

namespace {

std::string hex(std::uint32_t x) {
  std::ostringstream out;
  out << std::hex << x;
  return out.str();
}

std::string classid(std::uint32_t minor) {
  return "1:" + hex(minor);
}

std::string bits(std::int64_t bps) {
  return std::to_string(bps) + "bit";
}

std::int64_t kbps_to_bps(std::int64_t kbps) {
  return std::clamp(kbps, bwmin_kbps, bwmax_kbps) * 1000;
}

std::int64_t value(const std::map<std::string, std::int64_t>& values, const char* key) {
  allocation a;
  a.values = values;
  return value_or_default(a, key);
}

std::string addr_str(std::uint32_t host_order) {
  char buf[INET_ADDRSTRLEN];
  std::uint32_t n = htonl(host_order);
  ::inet_ntop(AF_INET, &n, buf, sizeof(buf));
  return buf;
}

std::uint32_t filter_prio(std::uint32_t xid, bool exempt) {
  return (exempt ? 0x1000u : 0x2000u) | xid;
}

} // namespace

std::vector<class_spec> tree_classes(std::int64_t cap_kbps) {
  auto cap = kbps_to_bps(cap_kbps);
  auto bwmax = std::max(kbps_to_bps(bwmax_kbps), cap);
  auto bwmin = kbps_to_bps(bwmin_kbps);
  std::vector<class_spec> out{
      {1, 0, bwmax, bwmax, htb_quantum(1), false},
      {0x10, 1, bwmin, cap, htb_quantum(1), false},
      {0x20, 1, bwmin, bwmax, htb_quantum(1), false},
  };
  auto fixed = [&](std::uint32_t xid, std::int64_t share) {
    out.push_back({main_minor | xid, 0x10, bwmin, cap, htb_quantum(share), true});
    out.push_back({exempt_minor | xid, 0x20, bwmin, bwmax, htb_quantum(share), true});
  };
  fixed(root_xid, root_share);
  fixed(default_xid, 1);
  return out;
}

std::pair<class_spec, class_spec> slice_classes(std::uint32_t xid,
                                                const std::map<std::string, std::int64_t>& values) {
  auto make = [&](std::uint32_t minor, std::uint32_t parent, const char* min_key,
                  const char* max_key, const char* share_key) {
    class_spec c;
    c.minor = minor | xid;
    c.parent_minor = parent;
    c.rate_bps = kbps_to_bps(value(values, min_key));
    c.ceil_bps = std::max(c.rate_bps, kbps_to_bps(value(values, max_key)));
    c.quantum = htb_quantum(std::max<std::int64_t>(1, value(values, share_key)));
    c.leaf = true;
    return c;
  };
  return {make(main_minor, 0x10, "net_min_rate", "net_max_rate", "net_share"),
          make(exempt_minor, 0x20, "net_i2_min_rate", "net_i2_max_rate", "net_i2_share")};
}

std::optional<std::int64_t> parse_rate(std::string_view text) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end == text.data())
    return std::nullopt;
  std::string_view unit{end, static_cast<std::size_t>(text.data() + text.size() - end)};
  if (unit == "bit")
    return n;
  if (unit == "Kbit")
    return n * 1000;
  if (unit == "Mbit")
    return n * 1000'000;
  if (unit == "Gbit")
    return n * 1000'000'000;
  if (unit == "Tbit")
    return n * 1000'000'000'000;
  return std::nullopt;
}

std::vector<class_state> parse_classes(std::string_view text) {
  std::vector<class_state> out;
  std::istringstream in{std::string{text}};
  std::string line;
  auto minor_of = [](const std::string& id) -> std::optional<std::uint32_t> {
    if (id.rfind("1:", 0) != 0)
      return std::nullopt;
    return static_cast<std::uint32_t>(std::stoul(id.substr(2), nullptr, 16));
  };
  class_state* cur = nullptr;
  while (std::getline(in, line)) {
    std::istringstream words{line};
    std::vector<std::string> w;
    for (std::string x; words >> x;)
      w.push_back(x);
    if (w.size() >= 3 && w[0] == "class") {
      cur = nullptr;
      if (w[1] != "htb")
        continue;
      auto minor = minor_of(w[2]);
      if (!minor)
        continue;
      cur = &out.emplace_back();
      cur->minor = *minor;
      for (std::size_t i = 3; i + 1 < w.size(); ++i) {
        const auto& k = w[i];
        const auto& v = w[i + 1];
        if (k == "parent") {
          cur->parent_minor = minor_of(v).value_or(0);
        } else if (k == "leaf") {
          cur->leaf_major = static_cast<std::uint32_t>(std::stoul(v, nullptr, 16));
        } else if (k == "quantum") {
          cur->quantum = std::stoll(v);
        } else if (k == "rate") {
          cur->rate_bps = parse_rate(v).value_or(0);
        } else if (k == "ceil") {
          cur->ceil_bps = parse_rate(v).value_or(0);
        }
      }
    } else if (cur != nullptr && w.size() >= 4 && w[0] == "Sent" && w[2] == "bytes") {
      cur->bytes = std::stoll(w[1]);
      cur->packets = std::stoll(w[3]);
    }
  }
  return out;
}

std::string prefix4::str() const {
  return addr_str(addr) + "/" + std::to_string(len);
}

caf::expected<prefix4> parse_prefix4(std::string_view text) {
  std::string s{text};
  prefix4 out;
  auto slash = s.find('/');
  if (slash != std::string::npos) {
    auto len_text = s.substr(slash + 1);
    int len = -1;
    auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (ec != std::errc{} || end != len_text.data() + len_text.size() || len < 0 || len > 32)
      return make_error(errc::invalid_argument, "bad prefix length in '" + s + "'");
    out.len = len;
    s.resize(slash);
  }
  in_addr a;
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1)
    return make_error(errc::invalid_argument, "'" + std::string{text} + "' is not an IPv4 prefix");
  out.addr = ntohl(a.s_addr);
  auto mask = out.len == 0 ? 0u : ~std::uint32_t{0} << (32 - out.len);
  if ((out.addr & ~mask) != 0)
    return make_error(errc::invalid_argument,
                      "'" + std::string{text} + "' has bits set beyond its length");
  return out;
}

caf::expected<htb_tree> htb_tree::make(htb_options opts) {
  htb_tree out;
  if (opts.device.empty() || opts.device.size() > 15 || opts.device.find('/') != std::string::npos)
    return make_error(errc::invalid_argument, "bad device name '" + opts.device + "'");
  if (opts.cap_kbps < bwmin_kbps)
    return make_error(errc::invalid_argument, "the node cap must be at least 1 kbps");
  for (const auto& e : opts.exempt) {
    auto p = parse_prefix4(e);
    if (!p)
      return p.error();
    out.exempt_.push_back(*p);
  }
  auto sub = parse_prefix4(opts.subnet);
  if (!sub)
    return sub.error();
  if (sub->len > 16)
    return make_error(errc::invalid_argument, "the sliver subnet must be a /16 or larger");
  out.subnet_ = *sub;
  if (opts.veth_prefix.size() + 4 > 15)
    return make_error(errc::invalid_argument, "veth prefix too long");
  out.opts_ = std::move(opts);
  return out;
}

caf::expected<std::string> htb_tree::tc(std::vector<std::string> args) const {
  std::vector<std::string> argv{"tc"};
  if (!opts_.netns.empty()) {
    argv.push_back("-n");
    argv.push_back(opts_.netns);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return linux_exec::run(argv);
}

caf::expected<std::vector<class_state>> htb_tree::classes() const {
  auto text = tc({"-s", "-d", "class", "show", "dev", opts_.device});
  if (!text)
    return text.error();
  return parse_classes(*text);
}

caf::expected<bool> htb_tree::present() const {
  auto text = tc({"-j", "qdisc", "show", "dev", opts_.device});
  if (!text)
    return text.error();
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_array())
    return make_error(errc::mechanism_failure, "tc -j qdisc show: not JSON: " + *text);
  for (const auto& q : doc) {
    if (!q.value("root", false))
      continue;
    if (q.value("kind", "") != "htb")
      return false;
    auto opts = q.value("options", nlohmann::json::object());
    if (q.value("handle", "") == "1:" && opts.value("default", "") == "0x1fff") {
      auto cs = classes();
      if (!cs)
        return cs.error();
      auto has = [&](std::uint32_t m) {
        return std::any_of(cs->begin(), cs->end(), [m](const auto& c) { return c.minor == m; });
      };
      if (has(1) && has(0x10) && has(0x20))
        return true;
    }
    return make_error(errc::mechanism_failure,
                      opts_.device + " carries an HTB tree that is not bwlimit's; not replaced");
  }
  return false;
}

caf::error htb_tree::tc_batch(const std::vector<std::vector<std::string>>& cmds) const {
  if (cmds.empty())
    return {};
  std::string input;
  for (const auto& c : cmds) {
    for (std::size_t i = 0; i < c.size(); ++i)
      input += (i ? " " : "") + c[i];
    input += "\n";
  }
  std::vector<std::string> argv{"tc"};
  if (!opts_.netns.empty()) {
    argv.push_back("-n");
    argv.push_back(opts_.netns);
  }
  argv.push_back("-batch");
  argv.push_back("-");
  if (auto r = linux_exec::run_in({}, argv, input); !r)
    return make_error(errc::mechanism_failure, describe(r.error()) + "\nbatch:\n" + input);
  return {};
}

void htb_tree::class_cmds(const class_spec& c, bool replace,
                          std::vector<std::vector<std::string>>& out) const {
  out.push_back({"class", replace ? "replace" : "add", "dev", opts_.device, "parent",
                 c.parent_minor == 0 ? "1:" : classid(c.parent_minor), "classid", classid(c.minor),
                 "htb", "rate", bits(c.rate_bps), "ceil", bits(c.ceil_bps), "quantum",
                 std::to_string(c.quantum)});
  if (c.leaf)
    out.push_back({"qdisc", "replace", "dev", opts_.device, "parent", classid(c.minor), "handle",
                   hex(c.minor) + ":", "pfifo"});
}

caf::error htb_tree::build() {
  auto here = present();
  if (!here)
    return here.error();
  auto fixed = tree_classes(opts_.cap_kbps);
  std::vector<std::vector<std::string>> cmds;
  if (*here) {
    // Adopt: leave everything as it is, except a changed node cap.
    auto cs = classes();
    if (!cs)
      return cs.error();
    for (const auto& c : *cs)
      if (c.minor == 0x10 && c.ceil_bps != fixed[1].ceil_bps)
        class_cmds(fixed[1], true, cmds);
    return tc_batch(cmds);
  }
  cmds.push_back({"qdisc", "replace", "dev", opts_.device, "root", "handle", "1:", "htb", "default",
                  hex(main_minor | default_xid)});
  for (const auto& c : fixed)
    class_cmds(c, false, cmds);
  return tc_batch(cmds);
}

caf::error htb_tree::remove() {
  auto here = present();
  if (!here)
    return here.error();
  if (!*here)
    return {};
  return tc_batch({{"qdisc", "del", "dev", opts_.device, "root"}});
}

veth_config htb_tree::veth(std::uint32_t xid) const {
  veth_config v;
  v.host_ifname = opts_.veth_prefix + std::to_string(xid);
  v.netns = opts_.netns;
  v.host_address = addr_str(subnet_.addr + 4 * xid + 1);
  v.sliver_address = addr_str(subnet_.addr + 4 * xid + 2);
  v.prefix_len = 30;
  return v;
}

caf::error htb_tree::set_slice(std::uint32_t xid, const std::map<std::string, std::int64_t>& values,
                               bool rebuild_filters) {
  if (xid == root_xid || xid > max_slice_xid)
    return make_error(errc::invalid_argument, "slice xid " + std::to_string(xid) + " out of range");
  auto [main, exempt] = slice_classes(xid, values);
  std::vector<std::vector<std::string>> cmds;
  class_cmds(main, true, cmds);
  class_cmds(exempt, true, cmds);
  auto counts = filter_counts();
  if (!counts)
    return counts.error();
  auto count = [&](bool e) {
    auto i = counts->find(filter_prio(xid, e));
    return i == counts->end() ? std::size_t{0} : i->second;
  };
  // Filters depend on the xid and the exempt set only: kept when complete
  // (a node manager re-applying every sync must not churn them), else
  // rebuilt whole: this slice's u32 instances deleted and added again.
  if (rebuild_filters || count(false) != 1 || count(true) != exempt_.size()) {
    filter_del_cmds(xid, *counts, cmds);
    auto src = veth(xid).sliver_address + "/32";
    auto prio_e = std::to_string(filter_prio(xid, true));
    for (const auto& p : exempt_)
      cmds.push_back(
          {"filter", "add",   "dev",  opts_.device, "parent", "1:",     "protocol",
           "ip",     "prio",  prio_e, "u32",        "match",  "ip",     "src",
           src,      "match", "ip",   "dst",        p.str(),  "flowid", classid(exempt.minor)});
    cmds.push_back({"filter", "add", "dev", opts_.device, "parent", "1:", "protocol", "ip", "prio",
                    std::to_string(filter_prio(xid, false)), "u32", "match", "ip", "src", src,
                    "flowid", classid(main.minor)});
  }
  return tc_batch(cmds);
}

caf::expected<std::map<std::uint32_t, std::size_t>> htb_tree::filter_counts() const {
  auto text = tc({"-j", "filter", "show", "dev", opts_.device, "parent", "1:"});
  if (!text)
    return text.error();
  std::map<std::uint32_t, std::size_t> out;
  if (text->find_first_not_of(" \n") == std::string::npos)
    return out;
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_array())
    return make_error(errc::mechanism_failure, "tc -j filter show: not JSON: " + *text);
  for (const auto& f : doc) {
    if (!f.contains("pref"))
      continue;
    auto& n = out[f["pref"].get<std::uint32_t>()];
    // A u32 instance lists itself and its hash table without a flowid.
    if (f.contains("options") && f["options"].contains("flowid"))
      ++n;
  }
  return out;
}

void htb_tree::filter_del_cmds(std::uint32_t xid,
                               const std::map<std::uint32_t, std::size_t>& counts,
                               std::vector<std::vector<std::string>>& out) const {
  for (bool exempt : {true, false}) {
    auto p = filter_prio(xid, exempt);
    if (counts.count(p) != 0)
      out.push_back({"filter", "del", "dev", opts_.device, "parent", "1:", "protocol", "ip", "prio",
                     std::to_string(p)});
  }
}

caf::error htb_tree::remove_slice(std::uint32_t xid) {
  // Without the tree there are neither filters nor classes to delete; a
  // missing device is an error (from tc).
  auto counts = filter_counts();
  if (!counts)
    return counts.error();
  auto cs = classes();
  if (!cs)
    return cs.error();
  std::vector<std::vector<std::string>> cmds;
  filter_del_cmds(xid, *counts, cmds); // first: a filter pins its class
  for (auto minor : {main_minor | xid, exempt_minor | xid})
    if (std::any_of(cs->begin(), cs->end(), [minor](const auto& c) { return c.minor == minor; }))
      cmds.push_back({"class", "del", "dev", opts_.device, "classid", classid(minor)});
  return tc_batch(cmds);
}

} // namespace pl::drivers::linux_net
