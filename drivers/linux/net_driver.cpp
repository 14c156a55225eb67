#include "drivers/linux/net_driver.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>
#include <sstream>

#include "actors/errors.hpp"
#include "drivers/linux/fs_util.hpp"

namespace fs = std::filesystem;

namespace pl::drivers::linux_net {

net_driver::net_driver(htb_tree tree, fs::path state_dir)
    : tree_(std::move(tree))
    , dir_(std::move(state_dir))
    , state_(dir_ / "slivers") {}

caf::error net_driver::record_tree() const {
  const auto& o = tree_.options();
  std::string text = "device=" + o.device + "\nnetns=" + o.netns +
                     "\ncap_kbps=" + std::to_string(o.cap_kbps) + "\nsubnet=" + o.subnet +
                     "\nveth_prefix=" + o.veth_prefix + "\nexempt=";
  for (std::size_t i = 0; i < o.exempt.size(); ++i)
    text += (i ? "," : "") + o.exempt[i];
  text += "\n";
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    return make_error(errc::mechanism_failure, "mkdir " + dir_.string() + ": " + ec.message());
  auto tmp = dir_ / ".tree.tmp";
  if (auto err = linux_fs::write_text(tmp, text))
    return err;
  if (std::rename(tmp.c_str(), (dir_ / "tree").c_str()) != 0)
    return linux_fs::os_error("rename " + tmp.string(), errno);
  return {};
}

std::optional<htb_options> net_driver::recorded(const fs::path& state_dir) {
  auto text = linux_fs::read_text(state_dir / "tree");
  if (!text)
    return std::nullopt;
  htb_options o;
  std::istringstream in{*text};
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    auto k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "device")
      o.device = v;
    else if (k == "netns")
      o.netns = v;
    else if (k == "cap_kbps")
      o.cap_kbps = std::stoll(v);
    else if (k == "subnet")
      o.subnet = v;
    else if (k == "veth_prefix")
      o.veth_prefix = v;
    else if (k == "exempt") {
      std::istringstream items{v};
      for (std::string x; std::getline(items, x, ',');)
        if (!x.empty())
          o.exempt.push_back(x);
    }
  }
  if (o.device.empty())
    return std::nullopt;
  return o;
}

caf::error net_driver::init() {
  if (ready_)
    return {};
  auto before = recorded(dir_);
  if (auto err = tree_.build())
    return err;
  // Adopted slices keep their classes; their filters follow a changed exempt
  // set or address plan.
  const auto& now = tree_.options();
  if (before && (before->exempt != now.exempt || before->subnet != now.subnet))
    for (const auto& s : slivers()) {
      auto rec = state_.get(s);
      if (!rec || !rec->count("xid"))
        continue;
      auto id = static_cast<std::uint32_t>(rec->at("xid"));
      rec->erase("xid");
      if (auto err = tree_.set_slice(id, *rec, true))
        return err;
    }
  if (auto err = record_tree())
    return err;
  ready_ = true;
  return {};
}

std::optional<std::uint32_t> net_driver::xid(const std::string& sliver) const {
  auto rec = state_.get(sliver);
  if (!rec || !rec->count("xid"))
    return std::nullopt;
  return static_cast<std::uint32_t>(rec->at("xid"));
}

std::optional<veth_config> net_driver::veth(const std::string& sliver) const {
  if (auto x = xid(sliver))
    return tree_.veth(*x);
  return std::nullopt;
}

caf::error net_driver::apply(const allocation& a) {
  if (auto err = check_allocation(a, mechanism::net))
    return err;
  if (auto err = init())
    return err;
  auto id = xid(a.sliver);
  if (!id) {
    std::set<std::uint32_t> used;
    for (const auto& s : state_.list())
      if (auto x = xid(s))
        used.insert(*x);
    for (std::uint32_t x = 1; x <= max_slice_xid && !id; ++x)
      if (used.count(x) == 0)
        id = x;
    if (!id)
      return make_error(errc::mechanism_failure, "no free slice xid (4094 slivers)");
  }
  if (auto err = tree_.set_slice(*id, a.values))
    return err;
  auto rec = a.values;
  rec["xid"] = *id;
  return state_.put(a.sliver, rec);
}

caf::error net_driver::remove(const std::string& sliver) {
  if (!valid_sliver_name(sliver))
    return make_error(errc::invalid_argument, "bad sliver name '" + sliver + "'");
  auto id = xid(sliver);
  if (!id)
    return state_.erase(sliver);
  if (auto err = tree_.remove_slice(*id))
    return err;
  return state_.erase(sliver);
}

caf::expected<allocation> net_driver::read(const std::string& sliver) const {
  auto rec = state_.get(sliver);
  if (!rec || !rec->count("xid"))
    return make_error(errc::unknown_sliver, sliver);
  auto minor = main_minor | static_cast<std::uint32_t>(rec->at("xid"));
  auto cs = tree_.classes();
  if (!cs)
    return cs.error();
  if (std::none_of(cs->begin(), cs->end(), [minor](const auto& c) { return c.minor == minor; }))
    return make_error(errc::unknown_sliver, sliver + " (recorded, but its HTB class is gone)");
  rec->erase("xid");
  return allocation{sliver, mechanism::net, *rec};
}

std::vector<std::string> net_driver::slivers() const {
  return state_.list();
}

caf::expected<std::int64_t> net_driver::usage(const std::string&, std::string_view resource) const {
  return make_error(errc::unsupported, "no use of " + std::string{resource});
}

caf::expected<std::map<std::string, std::pair<std::int64_t, std::int64_t>>>
net_driver::transmit_counters() const {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> out;
  auto names = slivers();
  if (names.empty())
    return out;
  auto cs = tree_.classes();
  if (!cs)
    return cs.error();
  std::map<std::uint32_t, std::int64_t> bytes;
  for (const auto& c : *cs)
    bytes[c.minor] = c.bytes;
  for (const auto& s : names) {
    auto id = xid(s);
    if (!id)
      continue;
    auto main = bytes.find(main_minor | *id);
    if (main == bytes.end())
      continue; // recorded, but its class is gone (read() says so)
    auto i2 = bytes.find(exempt_minor | *id);
    out[s] = {main->second, i2 == bytes.end() ? 0 : i2->second};
  }
  return out;
}

caf::error net_driver::destroy() {
  for (const auto& s : slivers())
    if (auto err = remove(s))
      return err;
  if (auto err = tree_.remove())
    return err;
  ready_ = false;
  std::error_code ec;
  fs::remove(dir_ / "tree", ec);
  if (ec)
    return make_error(errc::mechanism_failure, "rm " + (dir_ / "tree").string());
  return {};
}

} // namespace pl::drivers::linux_net
