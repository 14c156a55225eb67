// Runs the simulator's `scale` scenario at growing node counts and prints, for each run, the
// nodes, slivers, peak RSS, RSS per node, wall time and convergence p99 (issue #7 point 9).
// Targets: 10,000 nodes in real time with a slice change reaching all of them at p99 < 2 s;
// 100,000 nodes with 20 slivers each in virtual time within 16 GiB on a 2-core machine.
//
// Each run is a separate `plsim run` process driven only through plsim's public options
// (--nodes, --time, --out, -q) and read back through its run.json, so the figures follow
// whatever plsim does inside (polling loops, node_manager actors, shards). Memory is the
// plsim process's VmHWM (the embedded PLC included; PostgreSQL, and in real time plcd, are
// other processes) plus the virtual nodes' record files plsim keeps in /dev/shm (tmpfs is
// memory too), sampled every 5 s. A mode's ramp stops at the first run that fails or exceeds
// --timeout, or before a size the measured memory per node predicts above --max-rss-gib.
//
//   bench_sim_scale [--virtual 1000,3000,10000,30000,100000] [--real 1000,3000,10000]
//                   [--timeout 900] [--max-rss-gib 16] [--keep DIR] [--progress]

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PL_PLSIM_PATH
#define PL_PLSIM_PATH "plsim"
#endif
#ifndef PL_SCALE_SCENARIO
#define PL_SCALE_SCENARIO "sim/scenarios/scale.toml"
#endif
#ifndef PL_SCALE_REALTIME_SCENARIO
#define PL_SCALE_REALTIME_SCENARIO "bench/sim_scale/scale-realtime.toml"
#endif

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_signal(int) {
  interrupted = 1;
}

struct run_result {
  std::string mode;
  int nodes = 0;
  int exit_status = -1; ///< plsim's; -1 killed (timeout or interrupt)
  bool timed_out = false;
  double wall = 0;       ///< seconds, the whole plsim process
  double setup = 0;      ///< seconds of it building the testbed through PLCAPI
  double run = 0;        ///< seconds of it running the timeline
  double virtual_s = 0;  ///< testbed seconds simulated
  long peak_rss_kib = 0; ///< plsim's VmHWM
  long shm_kib = 0;      ///< its virtual nodes' record files in /dev/shm (tmpfs: memory too)
  double sim_rss_per_node = NAN; ///< KiB, plsim's own figure in run.json when it has one
  long slivers = 0;              ///< live slivers on all nodes at the end
  long plc_calls = 0;
  std::size_t changes = 0;   ///< convergence samples
  double p99_all = NAN;      ///< every change, seconds
  double p99_timeline = NAN; ///< the timeline's slice changes reaching every node
  std::size_t timeline_changes = 0;
  bool passed = false;
};

/// Returns the percentile like plsim's (nearest rank).
double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return NAN;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

/// Reads VmHWM (peak resident set, KiB) of a live process; 0 if it is gone.
long vm_hwm_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

/// Returns the /dev/shm/plsim-nodes.* directories (where plsim keeps its virtual nodes' record
/// files in memory) that exist now.
std::set<std::string> shm_node_dirs() {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator{"/dev/shm", ec})
    if (e.path().filename().string().rfind("plsim-nodes.", 0) == 0)
      out.insert(e.path().string());
  return out;
}

/// Returns the KiB that this run's record directory holds: a plsim-nodes.* directory that was
/// not there before the run and has one entry per node (another engineer's run of another
/// size is not counted), 0 if there is none.
long shm_kib(const std::set<std::string>& before, int nodes) {
  long best = 0;
  for (const auto& d : shm_node_dirs()) {
    if (before.count(d))
      continue;
    std::error_code ec;
    long entries = 0, kib = 0;
    for (auto it = fs::recursive_directory_iterator{d, ec};
         !ec && it != fs::recursive_directory_iterator{}; it.increment(ec)) {
      if (it.depth() == 0)
        ++entries;
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) == 0)
        kib += static_cast<long>(st.st_blocks) / 2;
    }
    if (entries == nodes)
      best = std::max(best, kib);
  }
  return best;
}

run_result run_plsim(const std::string& plsim, const std::string& scenario, const std::string& mode,
                     int nodes, const fs::path& out, int timeout_s, bool progress) {
  run_result r;
  r.mode = mode;
  r.nodes = nodes;
  fs::remove_all(out);
  fs::create_directories(out);
  std::vector<std::string> args = {plsim,    "run", scenario, "--nodes",   std::to_string(nodes),
                                   "--time", mode,  "--out",  out.string()};
  if (!progress)
    args.emplace_back("-q");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  auto shm_before = shm_node_dirs();
  auto start = steady::now();
  auto next_shm = start;
  pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error(std::string{"fork: "} + std::strerror(errno));
  if (pid == 0) {
    // plsim's own summary goes to a file; its progress line (stderr) stays on the terminal.
    auto log = (out / "plsim.out").string();
    if (std::freopen(log.c_str(), "w", stdout) == nullptr)
      ::_exit(126);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "bench_sim_scale: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  for (;;) {
    pid_t done = ::wait4(pid, &status, WNOHANG, &ru);
    if (done == pid)
      break;
    if (done < 0 && errno != EINTR)
      throw std::runtime_error(std::string{"wait4: "} + std::strerror(errno));
    r.peak_rss_kib = std::max(r.peak_rss_kib, vm_hwm_kib(pid));
    if (steady::now() >= next_shm) {
      r.shm_kib = std::max(r.shm_kib, shm_kib(shm_before, nodes));
      next_shm = steady::now() + std::chrono::seconds{5};
    }
    auto elapsed = std::chrono::duration<double>(steady::now() - start).count();
    if (!r.timed_out && (interrupted || elapsed > timeout_s)) {
      // SIGINT first: plsim and its PostgreSQL child stop; SIGKILL if it does not.
      r.timed_out = !interrupted;
      ::kill(pid, SIGINT);
      for (int k = 0; k < 50 && ::waitpid(pid, &status, WNOHANG) == 0; ++k)
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
      ::kill(pid, SIGKILL);
      ::wait4(pid, &status, 0, &ru);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  r.wall = std::chrono::duration<double>(steady::now() - start).count();
  // The last VmHWM sample misses at most the final 100 ms; wait4's figure covers the very end
  // (and reaped children, such as plcd in real time, when they peaked higher).
  if (r.peak_rss_kib == 0)
    r.peak_rss_kib = ru.ru_maxrss;
  r.exit_status = WIFEXITED(status) && !r.timed_out ? WEXITSTATUS(status) : -1;

  std::ifstream in{out / "run.json"};
  if (!in || r.exit_status < 0 || r.exit_status > 1)
    return r;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded())
    return r;
  r.passed = j.value("passed", false);
  r.slivers = j.value("final_slivers", 0L);
  r.plc_calls = j.value("plc_calls", 0L);
  r.setup = j.value("setup_wall_seconds", 0.0);
  r.run = j.value("wall_seconds", 0.0);
  r.virtual_s = j.value("virtual_seconds", 0.0);
  // plsim's own figure: RSS growth from before the nodes to the end, over the nodes.
  if (auto m = j.find("memory"); m != j.end() && m->is_object())
    if (auto b = m->find("rss_per_node_bytes"); b != m->end() && b->is_number())
      r.sim_rss_per_node = b->get<double>() / 1024.0;
  std::vector<double> all, timeline;
  for (const auto& s : j["convergence"]["samples"]) {
    double latency = s.value("latency", 0.0);
    all.push_back(latency);
    // The scenario's timeline events are the slice changes that reach every node.
    if (s.value("change", std::string{}).rfind("timeline[", 0) == 0)
      timeline.push_back(latency);
  }
  r.changes = all.size();
  r.timeline_changes = timeline.size();
  r.p99_all = percentile(all, 99);
  r.p99_timeline = percentile(timeline, 99);
  return r;
}

std::vector<int> parse_counts(const std::string& list, const char* option) {
  std::vector<int> out;
  std::stringstream in{list};
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty())
      continue;
    char* end = nullptr;
    long v = std::strtol(item.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 10'000'000)
      throw std::invalid_argument(std::string{option} + ": '" + item + "' is not a node count");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

std::string fmt(double v, int precision) {
  if (std::isnan(v))
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

void print_header() {
  std::printf("%-7s %7s %9s %8s %9s %8s %8s %9s %8s %8s %9s %9s %9s  %s\n", "mode", "nodes",
              "slivers", "sl/node", "peak_MiB", "shm_MiB", "KiB/node", "sim_KiB/n", "setup_s",
              "run_s", "virtual_h", "p99_all_s", "p99_chg_s", "result");
}

void print_row(const run_result& r) {
  double per_node = static_cast<double>(r.peak_rss_kib + r.shm_kib) / r.nodes;
  std::string result = r.timed_out         ? "timeout"
                       : r.exit_status < 0 ? "killed"
                       : r.exit_status > 1 ? "error " + std::to_string(r.exit_status)
                       : r.passed          ? "passed"
                                           : "FAILED (violations)";
  std::printf("%-7s %7d %9ld %8s %9s %8s %8s %9s %8s %8s %9s %9s %9s  %s (wall %.0f s)\n",
              r.mode.c_str(), r.nodes, r.slivers,
              fmt(static_cast<double>(r.slivers) / r.nodes, 1).c_str(),
              fmt(static_cast<double>(r.peak_rss_kib) / 1024.0, 0).c_str(),
              fmt(static_cast<double>(r.shm_kib) / 1024.0, 0).c_str(), fmt(per_node, 1).c_str(),
              fmt(r.sim_rss_per_node, 1).c_str(), fmt(r.setup, 0).c_str(), fmt(r.run, 0).c_str(),
              fmt(r.virtual_s / 3600.0, 2).c_str(), fmt(r.p99_all, 2).c_str(),
              fmt(r.p99_timeline, 2).c_str(), result.c_str(), r.wall);
  std::fflush(stdout);
}

/// Returns the memory a run used: plsim's peak RSS plus its record files in /dev/shm.
double memory_kib(const run_result& r) {
  return static_cast<double>(r.peak_rss_kib + r.shm_kib);
}

/// Returns the memory per additional node between the last two completed runs, or nullopt.
std::optional<double> marginal_kib(const std::vector<run_result>& runs, int* from, int* to) {
  const run_result* a = nullptr;
  const run_result* b = nullptr;
  for (const auto& r : runs)
    if (r.exit_status == 0 && r.peak_rss_kib > 0) {
      a = b;
      b = &r;
    }
  if (!a || b->nodes == a->nodes)
    return std::nullopt;
  if (from)
    *from = a->nodes;
  if (to)
    *to = b->nodes;
  return (memory_kib(*b) - memory_kib(*a)) / (b->nodes - a->nodes);
}

/// Runs one mode's ramp; returns its results.
std::vector<run_result> ramp(const std::string& plsim, const std::string& scenario,
                             const std::string& mode, const std::vector<int>& counts,
                             const fs::path& dir, int timeout_s, double max_rss_gib,
                             bool progress) {
  std::vector<run_result> done;
  for (int n : counts) {
    if (interrupted)
      break;
    // The marginal memory per node measured so far predicts whether the next size fits.
    if (auto per_node = marginal_kib(done, nullptr, nullptr)) {
      double predicted = memory_kib(done.back()) + *per_node * (n - done.back().nodes);
      if (predicted / (1024.0 * 1024.0) > max_rss_gib) {
        std::printf("%-7s %7d  skipped: predicted memory %.1f GiB > --max-rss-gib %.0f\n",
                    mode.c_str(), n, predicted / (1024.0 * 1024.0), max_rss_gib);
        break;
      }
    }
    auto r = run_plsim(plsim, scenario, mode, n, dir / (mode + "-" + std::to_string(n)), timeout_s,
                       progress);
    print_row(r);
    done.push_back(r);
    if (r.timed_out || r.exit_status != 0)
      break;
  }
  return done;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_sim_scale: plsim's scale scenario at growing node counts (issue #7 "
               "point 9); one plsim process per run"};
  std::string virtual_list = "1000,3000,10000,30000,100000";
  std::string real_list = "1000,3000,10000";
  std::string plsim = PL_PLSIM_PATH;
  std::string scenario = PL_SCALE_SCENARIO;
  std::string realtime_scenario = PL_SCALE_REALTIME_SCENARIO;
  int timeout_s = 900;
  double max_rss_gib = 16;
  std::string keep;
  bool progress = false;
  app.add_option("--virtual", virtual_list, "Node counts in virtual time ('' for none)")
      ->capture_default_str();
  app.add_option("--real", real_list, "Node counts in real time ('' for none)")
      ->capture_default_str();
  app.add_option("--plsim", plsim, "plsim binary")->capture_default_str();
  app.add_option("--scenario", scenario, "Scenario for virtual time")->capture_default_str();
  app.add_option("--realtime-scenario", realtime_scenario,
                 "Scenario for real time (scale's testbed on a timeline of minutes)")
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "Seconds one run may take; a slower run ends its ramp")
      ->check(CLI::Range(10, 24 * 3600))
      ->capture_default_str();
  app.add_option("--max-rss-gib", max_rss_gib,
                 "Skip sizes whose predicted peak RSS exceeds this (the virtual-time goal)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--keep", keep, "Keep each run's run.json/report.html under this directory");
  app.add_flag("--progress", progress, "Show plsim's progress line on stderr");
  CLI11_PARSE(app, argc, argv);

  std::vector<int> virtual_counts, real_counts;
  try {
    virtual_counts = parse_counts(virtual_list, "--virtual");
    real_counts = parse_counts(real_list, "--real");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sim_scale: %s\n", e.what());
    return 2;
  }
  for (const auto& f : {scenario, realtime_scenario})
    if (!fs::exists(f)) {
      std::fprintf(stderr, "bench_sim_scale: no scenario %s\n", f.c_str());
      return 2;
    }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  fs::path dir;
  if (keep.empty()) {
    auto pattern = (fs::temp_directory_path() / "bench-sim-scale-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::fprintf(stderr, "bench_sim_scale: mkdtemp: %s\n", std::strerror(errno));
      return 1;
    }
    dir = pattern;
  } else {
    dir = keep;
    fs::create_directories(dir);
  }

  std::printf("bench_sim_scale: %s, %u cores, timeout %d s per run\n", plsim.c_str(),
              std::thread::hardware_concurrency(), timeout_s);
  std::printf("  virtual: %s --nodes N (about 20 slivers per node)\n", scenario.c_str());
  std::printf("  real:    %s --nodes N --time real\n", realtime_scenario.c_str());
  std::printf("  peak_MiB: plsim's VmHWM; shm_MiB: its nodes' record files in /dev/shm; "
              "KiB/node: both over nodes;\n  sim_KiB/n: plsim's own figure (run.json "
              "memory.rss_per_node_bytes, when it reports one)\n");
  std::printf("  p99_all_s: every change; p99_chg_s: the timeline's slice changes reaching "
              "every node\n\n");
  print_header();
  std::fflush(stdout);
  auto virt =
      ramp(plsim, scenario, "virtual", virtual_counts, dir, timeout_s, max_rss_gib, progress);
  auto real =
      ramp(plsim, realtime_scenario, "real", real_counts, dir, timeout_s, max_rss_gib, progress);

  // Goals: virtual, passed with >= 20 slivers per node within the RSS limit; real, passed with
  // the timeline changes at p99 < 2 s.
  std::printf("\n");
  const run_result* best_virtual = nullptr;
  for (const auto& r : virt)
    if (r.passed && r.exit_status == 0 && memory_kib(r) / (1024.0 * 1024.0) <= max_rss_gib)
      best_virtual = &r;
  const run_result* best_real = nullptr;
  for (const auto& r : real)
    if (r.passed && r.exit_status == 0 && r.p99_timeline < 2.0)
      best_real = &r;
  if (!virt.empty()) {
    if (best_virtual)
      std::printf(
          "virtual: largest passing run %d nodes (%.1f slivers/node, peak %.2f GiB); "
          "goal 100,000 nodes x 20 slivers in %.0f GiB: %s\n",
          best_virtual->nodes, static_cast<double>(best_virtual->slivers) / best_virtual->nodes,
          memory_kib(*best_virtual) / (1024.0 * 1024.0), max_rss_gib,
          best_virtual->nodes >= 100'000 && best_virtual->slivers >= 20L * best_virtual->nodes
              ? "met"
              : "not reached");
    else
      std::printf("virtual: no run passed\n");
    int from = 0, to = 0;
    if (auto per_node = marginal_kib(virt, &from, &to)) {
      const run_result* last = nullptr;
      for (const auto& r : virt)
        if (r.nodes == to && r.exit_status == 0)
          last = &r;
      std::printf("virtual: marginal %.1f KiB per node, RSS + shm (%d -> %d nodes); 100,000 "
                  "nodes would take about %.2f GiB\n",
                  *per_node, from, to,
                  (memory_kib(*last) + *per_node * (100'000 - to)) / (1024.0 * 1024.0));
    }
  }
  if (!real.empty()) {
    if (best_real)
      std::printf("real: largest run with the change at p99 < 2 s: %d nodes (p99 %.2f s); "
                  "goal 10,000: %s\n",
                  best_real->nodes, best_real->p99_timeline,
                  best_real->nodes >= 10'000 ? "met" : "not reached");
    else
      std::printf("real: no run reached every node at p99 < 2 s (see p99_chg_s)\n");
  }
  if (keep.empty())
    fs::remove_all(dir);
  else
    std::printf("runs kept under %s\n", dir.c_str());
  return interrupted ? 130 : 0;
}
