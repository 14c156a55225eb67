#include "drivers/backend.hpp"

#include "actors/errors.hpp"
#include "drivers/linux/cgroup_drivers.hpp"
#include "drivers/linux/container.hpp"
#include "drivers/linux/disk.hpp"
#include "drivers/linux/net_driver.hpp"
#include "drivers/sim/containers.hpp"
#include "drivers/sim/model.hpp"

namespace pl::drivers {

override_driver* backend::find(mechanism m) const {
  auto i = drivers.find(m);
  return i == drivers.end() ? nullptr : i->second.get();
}

namespace {

caf::expected<backend> make_sim(const backend_options& opts) {
  auto m = std::make_shared<sim::model>();
  backend out;
  out.kind = "sim";
  for (auto k : {mechanism::cpu, mechanism::memory, mechanism::tasks, mechanism::disk_io,
                 mechanism::disk_space, mechanism::net})
    out.drivers[k] = std::make_shared<override_driver>(std::make_shared<sim::model_driver>(m, k),
                                                       opts.state_dir);
  out.containers = std::make_shared<sim::sim_containers>(m);
  out.keep = m;
  return out;
}

caf::expected<backend> make_linux(const backend_options& opts) {
  auto detected = linux_cg::layout::detect(
      {.fs_root = opts.cgroup_root, .self_cgroup = {}, .parent_name = opts.cgroup_parent});
  if (!detected)
    return detected.error();
  auto cgroups = std::make_shared<const linux_cg::layout>(std::move(*detected));
  if (cgroups->controllers().empty())
    return make_error(errc::unsupported, "no cgroup controller under " + opts.cgroup_root.string());
  backend out;
  out.kind = "linux";
  auto add = [&](std::shared_ptr<mechanism_driver> d) {
    auto k = d->kind();
    out.drivers[k] = std::make_shared<override_driver>(std::move(d), opts.state_dir);
  };
  auto dir = [&](mechanism m) { return opts.state_dir / "drivers" / to_string(m); };
  add(std::make_shared<linux_cg::cpu_driver>(cgroups, dir(mechanism::cpu)));
  add(std::make_shared<linux_cg::memory_driver>(cgroups, dir(mechanism::memory)));
  add(std::make_shared<linux_cg::tasks_driver>(cgroups, dir(mechanism::tasks)));
  auto disk = std::make_shared<linux_disk::disk_driver>(opts.state_dir / "disk");
  add(disk);
  add(std::make_shared<linux_cg::io_driver>(
      cgroups, dir(mechanism::disk_io),
      [disk](const std::string& sliver) { return disk->device(sliver); }));
  linux_ct::container_options copts;
  copts.images_dir = opts.images_dir;
  copts.dir = opts.state_dir / "containers";
  copts.writable = [disk](const std::string& sliver) { return disk->mount_point(sliver); };
  if (!opts.api_run_dir.empty())
    copts.api_dir = [dir = opts.api_run_dir](const std::string& sliver) { return dir / sliver; };
  copts.cgroup_procs = [cgroups](const std::string& sliver) {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    for (const auto& c : cgroups->controllers())
      if (std::filesystem::exists(cgroups->dir(c, sliver), ec))
        out.push_back(cgroups->dir(c, sliver) / "cgroup.procs");
    return out;
  };
  // The net driver: options given, else the tree an earlier init recorded.
  std::optional<linux_net::htb_options> net_opts;
  if (!opts.net_device.empty())
    net_opts = linux_net::htb_options{opts.net_device, opts.net_netns,  opts.net_cap_kbps,
                                      opts.net_exempt, opts.net_subnet, opts.net_veth_prefix};
  else
    net_opts = linux_net::net_driver::recorded(dir(mechanism::net));
  if (net_opts) {
    auto tree = linux_net::htb_tree::make(std::move(*net_opts));
    if (!tree)
      return tree.error();
    auto net = std::make_shared<linux_net::net_driver>(std::move(*tree), dir(mechanism::net));
    add(net);
    auto managed = out.drivers[mechanism::net];
    // A sliver started before the node manager applied its net resources
    // gets them enforced now (its managed values and overrides if recorded,
    // else the table defaults), hence an xid.
    copts.network = [net,
                     managed](const std::string& sliver) -> caf::expected<linux_net::veth_config> {
      if (!net->xid(sliver))
        if (auto err = managed->enforce(sliver, managed->enforced(sliver)))
          return err;
      if (auto v = net->veth(sliver))
        return *v;
      return make_error(errc::mechanism_failure, "no xid for " + sliver);
    };
  }
  out.containers = std::make_shared<linux_ct::linux_containers>(std::move(copts));
  out.keep = std::const_pointer_cast<linux_cg::layout>(cgroups);
  return out;
}

} // namespace

caf::expected<backend> make_backend(const backend_options& opts) {
  if (opts.kind == "sim")
    return make_sim(opts);
  if (opts.kind == "linux")
    return make_linux(opts);
  return make_error(errc::invalid_argument, "unknown backend '" + opts.kind + "'");
}

} // namespace pl::drivers
