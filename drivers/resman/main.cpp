// resman: one multi-call binary installed as cpulimit, memlimit, tasklimit,
// disklimit, bwlimit and iolimit (PlanetLab 3.0 design, section 4.3).
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "drivers/backend.hpp"
#include "drivers/mechanism_driver.hpp"
#include "drivers/resman.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto tool_name = std::filesystem::path{argv[0]}.filename().string();
  if (!pl::drivers::find_resman_tool(tool_name) && !args.empty()) {
    tool_name = args.front();
    args.erase(args.begin());
  }
  auto tool = pl::drivers::find_resman_tool(tool_name);
  if (!tool) {
    std::cerr
        << "usage: resman {cpulimit|memlimit|tasklimit|disklimit|bwlimit|iolimit} COMMAND ...\n"
           "       (or call it through a link of one of those names)\n";
    return 2;
  }
  pl::drivers::backend_options opts;
  if (const char* s = std::getenv("PL_DRIVERS_STATE"))
    opts.state_dir = s;
  if (const char* s = std::getenv("PL_CGROUP_PARENT"))
    opts.cgroup_parent = s;
  if (const char* s = std::getenv("PL_NET_DEVICE"))
    opts.net_device = s;
  if (const char* s = std::getenv("PL_NET_NETNS"))
    opts.net_netns = s;
  if (const char* s = std::getenv("PL_NET_CAP"))
    opts.net_cap_kbps = std::atoll(s);
  if (const char* s = std::getenv("PL_NET_EXEMPT")) {
    std::string list = s;
    for (std::size_t at = 0; at < list.size();) {
      auto comma = list.find(',', at);
      if (comma == std::string::npos)
        comma = list.size();
      if (comma > at)
        opts.net_exempt.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
  }
  if (const char* s = std::getenv("PL_NET_SUBNET"))
    opts.net_subnet = s;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto take = [&](auto& field) {
      if (i + 1 == args.size()) {
        std::cerr << tool_name << ": " << args[i] << " needs a value\n";
        std::exit(2);
      }
      field = args[++i];
    };
    if (args[i] == "--state")
      take(opts.state_dir);
    else if (args[i] == "--cgroup-parent")
      take(opts.cgroup_parent);
    else if (args[i] == "--cgroup-root")
      take(opts.cgroup_root);
    else
      rest.push_back(args[i]);
  }
  for (const auto& a : rest)
    if (a == "-h" || a == "--help" || a == "help") {
      std::cout << pl::drivers::resman_usage(*tool);
      return 0;
    }
  // bwlimit init DEV [CAP]: the device and the node cap in kbps, as in the
  // original bwlimit.
  if (tool->enforced_by == pl::mechanism::net && rest.size() >= 2 && rest.size() <= 3 &&
      rest[0] == "init") {
    opts.net_device = rest[1];
    if (rest.size() == 3) {
      char* end = nullptr;
      opts.net_cap_kbps = std::strtoll(rest[2].c_str(), &end, 10);
      if (rest[2].empty() || *end != '\0' || opts.net_cap_kbps <= 0) {
        std::cerr << tool_name << ": bad cap '" << rest[2] << "' (kbps)\n";
        return 2;
      }
    }
    rest.resize(1);
  }
  auto b = pl::drivers::make_backend(opts);
  if (!b) {
    std::cerr << tool_name << ": " << pl::drivers::describe(b.error()) << "\n";
    return 1;
  }
  return pl::drivers::run_resman(*tool, rest, *b, std::cout, std::cerr);
}
