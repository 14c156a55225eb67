#include "drivers/resman.hpp"

#include <algorithm>
#include <ostream>
#include <vector>

#include "actors/errors.hpp"

namespace pl::drivers {

namespace {

constexpr resman_tool tools[] = {
    {"cpulimit", mechanism::cpu, "cpu_share"},    {"memlimit", mechanism::memory, "mem_limit"},
    {"tasklimit", mechanism::tasks, "tasks_max"}, {"disklimit", mechanism::disk_space, "disk_max"},
    {"bwlimit", mechanism::net, "net_max_rate"},  {"iolimit", mechanism::disk_io, "io_max_rate"},
};

} // namespace

std::optional<resman_tool> find_resman_tool(std::string_view name) {
  for (const auto& t : tools)
    if (t.name == name)
      return t;
  return std::nullopt;
}

std::string resman_usage(const resman_tool& tool) {
  const auto* row = find_resource(tool.resource);
  std::string name{tool.name};
  std::string out = "usage: " + name + " COMMAND [SLICE [VALUE]] [-r RESOURCE]\n\n";
  out += "Sets and reads the " + to_string(tool.enforced_by) + " resources of a slice's sliver ";
  out += "on this node (PlanetLab 3.0 resman).\n";
  out += "Default resource: " + std::string{tool.resource} + " in " + std::string{row->unit} +
         ", default " + std::to_string(row->default_value) + ".\n\ncommands:\n";
  if (tool.enforced_by == mechanism::net)
    out += "  init [DEV [CAP]]   build or adopt the HTB tree on DEV with node cap CAP kbps\n"
           "                     (default: the recorded tree, or PL_NET_DEVICE/PL_NET_CAP)\n";
  else
    out += "  init               check the mechanism and show where it acts\n";
  out += "  getlimit SLICE     print the value in force\n";
  out += "  setlimit SLICE N   set an administrator's override (kept until 'default')\n";
  out += "  on SLICE           enforce the slice's values again\n";
  out += "  off SLICE          stop enforcing (limits unlimited, shares default)\n";
  out += "  default SLICE      drop the overrides; the node manager's values apply\n\n";
  out += "-r RESOURCE selects another resource of this mechanism:";
  for (const auto& r : resource_table())
    if (r.enforced_by == tool.enforced_by)
      out += " " + std::string{r.name};
  out += "\nOptions before the command: --state DIR (or PL_DRIVERS_STATE), --cgroup-parent NAME\n";
  out += "(or PL_CGROUP_PARENT), --cgroup-root DIR. Exit status: 0 ok, 1 refused, 2 usage.\n";
  return out;
}

int run_resman(const resman_tool& tool, std::span<const std::string> args, backend& b,
               std::ostream& out, std::ostream& err) {
  std::vector<std::string> pos;
  std::string resource{tool.resource};
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "-h" || a == "--help" || a == "help") {
      out << resman_usage(tool);
      return 0;
    }
    if (a == "-r" || a == "--resource") {
      if (i + 1 == args.size()) {
        err << tool.name << ": " << a << " needs a resource name\n";
        return 2;
      }
      resource = args[++i];
      continue;
    }
    pos.push_back(a);
  }
  auto fail = [&](const std::string& text, int code = 1) {
    err << tool.name << ": " << text << "\n";
    return code;
  };
  if (pos.empty())
    return fail("missing command (try --help)", 2);
  const auto* row = find_resource(resource);
  if (row == nullptr || row->enforced_by != tool.enforced_by)
    return fail("'" + resource + "' is not a resource of " + std::string{tool.name}, 2);
  auto* drv = b.find(tool.enforced_by);
  if (drv == nullptr)
    return fail("the " + b.kind + " backend has no " + to_string(tool.enforced_by) +
                " driver on this host" +
                (tool.enforced_by == mechanism::net
                     ? std::string{" (no tree recorded: run 'bwlimit init DEV [CAP]' or set "
                                   "PL_NET_DEVICE)"}
                     : std::string{}));
  const auto& cmd = pos[0];
  std::size_t want = cmd == "init" ? 1 : cmd == "setlimit" ? 3 : 2;
  if (cmd != "init" && cmd != "getlimit" && cmd != "setlimit" && cmd != "on" && cmd != "off" &&
      cmd != "default")
    return fail("unknown command '" + cmd + "' (try --help)", 2);
  if (pos.size() != want)
    return fail(cmd + ": expected " + std::to_string(want - 1) + " argument(s) (try --help)", 2);
  if (cmd == "init") {
    if (auto e = drv->init())
      return fail(describe(e));
    out << tool.name << ": " << to_string(tool.enforced_by) << " driver ready (" << b.kind
        << " backend, " << drv->slivers().size() << " slivers)\n";
    return 0;
  }
  const auto& slice = pos[1];
  if (!valid_sliver_name(slice))
    return fail("bad slice name '" + slice + "'");
  auto known = drv->slivers();
  if (std::find(known.begin(), known.end(), slice) == known.end())
    return fail("unknown slice '" + slice + "': no sliver on this node");
  if (cmd == "getlimit") {
    auto cur = drv->read(slice);
    if (!cur)
      return fail(describe(cur.error()));
    out << value_or_default(*cur, resource) << "\n";
    return 0;
  }
  caf::error result;
  if (cmd == "setlimit") {
    auto value = parse_resource_value(*row, pos[2]);
    if (!value)
      return fail("bad value '" + pos[2] + "' for " + resource + " (" + describe(value.error()) +
                  "; unit: " + std::string{row->unit} + ")");
    if (auto use = drv->usage(slice, resource); use && *value < *use)
      return fail(resource + " " + std::to_string(*value) +
                  " is below the slice's current use of " + std::to_string(*use) + " " +
                  std::string{row->unit});
    result = drv->set_override(slice, resource, *value);
  } else if (cmd == "on") {
    result = drv->enforce(slice, true);
  } else if (cmd == "off") {
    result = drv->enforce(slice, false);
  } else {
    result = drv->clear_overrides(slice);
  }
  if (result)
    return fail(describe(result));
  return 0;
}

} // namespace pl::drivers
