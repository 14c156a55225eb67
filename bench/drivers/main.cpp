// bench/drivers: create, configure every resource and destroy N slivers on the
// sim backend (default 100000) and, as root, the linux backend (default 100:
// cgroups cpu/memory/tasks/blkio, a sparse ext4 disk and two HTB classes with
// their leaves and filters each, the tree on a veth in a private network
// namespace). Prints figures; asserts nothing.
//
//   bench_drivers [sim_count] [linux_count]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

#include "drivers/backend.hpp"
#include "drivers/linux/cgroup_drivers.hpp"
#include "drivers/linux/exec.hpp"
#include "drivers/linux/net_driver.hpp"
#include "drivers/sim/model.hpp"

using namespace pl;
using namespace pl::drivers;
using clk = std::chrono::steady_clock;

namespace {

long rss_kib() {
  std::ifstream in{"/proc/self/status"};
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

std::vector<allocation> all_resources(const std::string& name, bool with_disk) {
  std::vector<allocation> out{
      {name, mechanism::cpu, {{"cpu_share", 64}, {"cpu_pct", 5}}},
      {name, mechanism::memory, {{"mem_limit", 65536}, {"mem_share", 32}}},
      {name, mechanism::tasks, {{"tasks_max", 512}}},
      {name, mechanism::disk_io, {{"io_weight", 200}, {"io_max_rate", 10240}}},
  };
  out.push_back({name,
                 mechanism::net,
                 {{"net_min_rate", 100},
                  {"net_max_rate", 10000},
                  {"net_share", 2},
                  {"net_i2_max_rate", 50000}}});
  if (with_disk)
    out.push_back({name, mechanism::disk_space, {{"disk_max", 16384}}});
  else
    out.push_back({name, mechanism::disk_space, {{"disk_max", 5000000}}});
  return out;
}

double ms(clk::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

int run(backend& b, int n, bool linux_disk, const char* label) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i)
    names.push_back("bench" + std::to_string(i));
  auto rss0 = rss_kib();
  auto t0 = clk::now();
  std::map<mechanism, clk::duration> per;
  for (const auto& s : names)
    for (const auto& a : all_resources(s, linux_disk)) {
      auto m0 = clk::now();
      if (auto err = b.find(a.enforced_by)->apply(a)) {
        std::fprintf(stderr, "%s: apply failed: %s\n", label, describe(err).c_str());
        return 1;
      }
      per[a.enforced_by] += clk::now() - m0;
    }
  auto t1 = clk::now();
  auto rss1 = rss_kib();
  for (const auto& s : names)
    for (auto& [m, d] : b.drivers)
      if (auto err = d->remove(s)) {
        std::fprintf(stderr, "%s: remove failed: %s\n", label, describe(err).c_str());
        return 1;
      }
  auto t2 = clk::now();
  std::printf("%s: %d slivers: create+configure %.1f ms (%.3f ms/sliver), destroy %.1f ms "
              "(%.3f ms/sliver)\n",
              label, n, ms(t1 - t0), ms(t1 - t0) / n, ms(t2 - t1), ms(t2 - t1) / n);
  std::printf("%s: configure per mechanism (ms/sliver):", label);
  for (const auto& [m, d] : per)
    std::printf(" %s %.3f", to_string(m).c_str(), ms(d) / n);
  std::printf("\n");
  if (std::string{label} == "sim") {
    auto model = std::static_pointer_cast<sim::model>(b.keep);
    std::printf("sim: memory %.0f bytes/sliver (RSS growth incl. state records), simulated time "
                "charged %.3f s\n",
                (rss1 - rss0) * 1024.0 / n, model->elapsed() / 1e9);
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  int sim_n = argc > 1 ? std::atoi(argv[1]) : 100000;
  int linux_n = argc > 2 ? std::atoi(argv[2]) : 100;
  char tmpl[] = "/tmp/pl-bench-drivers-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr)
    return 1;
  std::string dir = tmpl;
  int rc = 0;
  {
    backend_options o;
    o.kind = "sim";
    o.state_dir = dir + "/sim";
    auto b = make_backend(o);
    if (!b)
      return 1;
    // The sim state records go to files (override layer); measure the model
    // alone as well.
    auto model = std::make_shared<sim::model>();
    auto rss0 = rss_kib();
    auto t0 = clk::now();
    for (int i = 0; i < sim_n; ++i)
      for (const auto& a : all_resources("bench" + std::to_string(i), false))
        model->apply(a);
    auto t1 = clk::now();
    auto rss1 = rss_kib();
    std::printf("sim model alone: %d slivers, all resources: %.1f ms, %.0f bytes/sliver\n", sim_n,
                ms(t1 - t0), (rss1 - rss0) * 1024.0 / sim_n);
    rc |= run(*b, sim_n, false, "sim");
  }
  if (::geteuid() == 0 && linux_n > 0) {
    // The HTB tree goes on a veth in a private network namespace.
    auto netns = "plbench-" + std::to_string(::getpid());
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"ip", "netns", "add", netns},
             {"ip", "-n", netns, "link", "add", "uplink", "type", "veth", "peer", "name", "sink"},
             {"ip", "-n", netns, "link", "set", "dev", "uplink", "up"}})
      if (auto r = linux_exec::run(argv); !r) {
        std::fprintf(stderr, "linux: %s\n", describe(r.error()).c_str());
        linux_exec::run({"ip", "netns", "del", netns});
        return 1;
      }
    backend_options o;
    o.state_dir = dir + "/linux";
    o.cgroup_parent = "plbench-" + std::to_string(::getpid());
    o.net_device = "uplink";
    o.net_netns = netns;
    o.net_exempt = {"10.88.0.0/16"};
    auto b = make_backend(o);
    if (!b) {
      std::fprintf(stderr, "linux: %s\n", describe(b.error()).c_str());
      linux_exec::run({"ip", "netns", "del", netns});
      return 1;
    }
    rc |= run(*b, linux_n, true, "linux");
    for (auto& [m, d] : b->drivers)
      if (auto* cg = dynamic_cast<linux_cg::cgroup_driver*>(&d->inner()))
        cg->remove_parents();
    if (auto* net = b->find(mechanism::net))
      if (auto err = dynamic_cast<linux_net::net_driver&>(net->inner()).destroy())
        std::fprintf(stderr, "linux: net destroy: %s\n", describe(err).c_str());
    if (auto r = linux_exec::run({"ip", "netns", "del", netns}); !r)
      rc = 1;
  } else {
    std::printf("linux: SKIPPED (needs root)\n");
  }
  std::string rm = "rm -rf " + dir;
  rc |= std::system(rm.c_str()) != 0;
  return rc;
}
