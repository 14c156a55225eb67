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
  auto b = pl::drivers::make_backend(opts);
  if (!b) {
    std::cerr << tool_name << ": " << pl::drivers::describe(b.error()) << "\n";
    return 1;
  }
  return pl::drivers::run_resman(*tool, rest, *b, std::cout, std::cerr);
}
