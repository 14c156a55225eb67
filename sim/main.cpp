// plsim: runs a scenario of virtual nodes against a real PLC and writes a
// JSON record, an event log and an HTML report. See sim/README.md.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <tuple>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "actors/clock.hpp"
#include "sim/engine.hpp"
#include "sim/plc_link.hpp"
#include "sim/report.hpp"
#include "sim/scenario.hpp"
#include "sim/shard.hpp"

#ifndef PL_PLCD_PATH
#define PL_PLCD_PATH "plcd"
#endif

namespace fs = std::filesystem;
using namespace pl::sim;

namespace {

volatile std::sig_atomic_t stop_signal = 0;

extern "C" void request_stop(int sig) {
  stop_signal = sig;
}

/// SIGINT and SIGTERM end a run at its next step, through the same unwinding
/// as a failure, so the embedded PLC's cluster, a throwaway plcd, the shards
/// and the nodes' directories are all removed. The first signal resets the
/// handler: a second one kills at once.
void stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = request_stop;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"plsim: the PlanetLab simulator. Runs a scenario's virtual nodes against a real\n"
               "PLC and writes run.json, events.log and report.html to --out."};
  app.require_subcommand(1);
  auto* run = app.add_subcommand("run", "Run a scenario file (TOML; see sim/README.md)");
  std::string file;
  std::optional<std::uint64_t> seed;
  std::optional<int> nodes;
  std::string duration;
  std::string time = "virtual";
  std::string out = "plsim-out";
  std::string plc_url;
  std::string plc_cafile;
  std::string plc_user = "admin@localhost";
  std::string plc_password_file;
  std::string plcd = PL_PLCD_PATH;
  bool quiet = false;
  run->add_option("scenario", file, "Scenario file")->required()->check(CLI::ExistingFile);
  run->add_option("--seed", seed, "Random seed (default: the scenario's)");
  run->add_option("--nodes", nodes, "Override the scenario's node count (scale runs)")
      ->check(CLI::Range(1, 10'000'000));
  run->add_option("--duration", duration, "Override the timeline's length, e.g. 2h");
  run->add_option("--time", time,
                  "virtual: deterministic, PLC embedded on a fresh database with a virtual "
                  "clock; real: wall-clock time against plcd")
      ->check(CLI::IsMember({"virtual", "real"}))
      ->capture_default_str();
  run->add_option("--out", out, "Output directory")->capture_default_str();
  run->add_option("--plc-url", plc_url,
                  "Real time: an existing PLC (else plsim starts plcd --dev on a fresh data "
                  "directory)");
  run->add_option("--plc-cafile", plc_cafile, "CA file for an https --plc-url");
  run->add_option("--plc-user", plc_user, "Admin account at --plc-url")->capture_default_str();
  run->add_option("--plc-password-file", plc_password_file,
                  "File holding the admin password for --plc-url");
  run->add_option("--plcd", plcd, "plcd binary for real-time runs")->capture_default_str();
  run->add_flag("-q,--quiet", quiet, "No progress line");
  int shard_processes = 0;
  std::vector<std::string> shard_addresses;
  std::string plc_push;
  run->add_option("--shards", shard_processes,
                  "Real time: host the nodes in N 'plsim shard' processes on loopback (default: "
                  "in this process)")
      ->check(CLI::Range(0, 256));
  run->add_option("--shard", shard_addresses,
                  "Real time: also host nodes at a running 'plsim shard' (HOST:PORT, repeatable)");
  run->add_option("--plc-push", plc_push,
                  "Real time with --plc-url: PLC's push endpoint HOST:PORT (default: poll only)");
  auto* shard = app.add_subcommand(
      "shard", "Host virtual nodes for a real-time run's coordinator (plsim run --shard "
               "HOST:PORT); see sim/README.md, Sharding");
  std::string shard_listen = "127.0.0.1";
  std::uint16_t shard_port = 0;
  std::size_t shard_threads = 0;
  shard->add_option("--listen", shard_listen, "Address to publish the shard on")
      ->capture_default_str();
  shard->add_option("--port", shard_port, "Port (0: any free one, printed)")->capture_default_str();
  shard->add_option("--threads", shard_threads, "CAF scheduler threads (0: one per core)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (shard->parsed()) {
    spdlog::set_level(spdlog::level::warn);
    try {
      return run_shard_process(shard_listen, shard_port, shard_threads);
    } catch (const std::exception& e) {
      std::cerr << "plsim shard: " << e.what() << "\n";
      return 3;
    }
  }

  spdlog::set_level(spdlog::level::warn);
  try {
    scenario_overrides o;
    o.seed = seed;
    o.nodes = nodes;
    if (!duration.empty()) {
      auto d = parse_duration(duration);
      if (!d || *d <= 0) {
        std::cerr << "plsim: --duration: '" << duration << "' is not a duration\n";
        return 2;
      }
      o.duration = *d;
    }
    if ((shard_processes > 0 || !shard_addresses.empty() || !plc_push.empty()) && time != "real") {
      std::cerr << "plsim: --shards, --shard and --plc-push need --time real (virtual time "
                   "runs every node in this process)\n";
      return 2;
    }
    if (!plc_url.empty() && time != "real") {
      std::cerr << "plsim: --plc-url needs --time real (a remote PLC cannot follow virtual "
                   "time)\n";
      return 2;
    }
    auto sc = load_scenario(file, o);
    stop_on_signals();
    fs::create_directories(out);
    std::ofstream events{fs::path{out} / "events.log", std::ios::trunc};
    if (!events)
      throw std::runtime_error("cannot write " + (fs::path{out} / "events.log").string());

    pl::manual_clock clock{pl::clock::time_point{std::chrono::seconds{virtual_epoch}}};
    std::unique_ptr<plcd_process> daemon;
    std::unique_ptr<plc_link> plc;
    run_options opt;
    opt.event_log = &events;
    opt.stop_requested = [] { return stop_signal != 0; };
    bool tty = ::isatty(STDERR_FILENO) != 0;
    if (!quiet)
      opt.progress = [tty](const std::string& line) {
        if (tty)
          std::cerr << "\r\033[K" << line << std::flush;
        else
          std::cerr << line << "\n";
      };
    if (time == "virtual") {
      opt.mode = time_mode::virtual_time;
      opt.plc_clock = &clock;
      if (!quiet)
        std::cerr << "plsim: starting an embedded PLC on a fresh PostgreSQL cluster\n";
      plc = make_embedded_plc(clock);
    } else {
      opt.mode = time_mode::real_time;
      if (plc_url.empty()) {
        if (!quiet)
          std::cerr << "plsim: starting " << plcd << " --dev on a fresh data directory\n";
        daemon = std::make_unique<plcd_process>(plcd);
        plc = make_remote_plc(daemon->url(), "", daemon->admin_email(), daemon->admin_password());
      } else {
        std::string password;
        if (!plc_password_file.empty()) {
          std::ifstream in{plc_password_file};
          std::getline(in, password);
          if (!in && password.empty())
            throw std::runtime_error("cannot read " + plc_password_file);
        } else if (const char* p = std::getenv("PLSIM_PLC_PASSWORD")) {
          password = p;
        } else {
          throw std::runtime_error("--plc-url needs --plc-password-file or PLSIM_PLC_PASSWORD");
        }
        plc = make_remote_plc(plc_url, plc_cafile, plc_user, password);
      }
    }
    // Real time: the nodes are real node managers on CAF's scheduler, in
    // shards (this process, 'plsim shard' processes, or joined ones).
    pl::system_clock_source node_clock;
    std::optional<caf::actor_system_config> shard_cfg;
    std::optional<caf::actor_system> shard_sys;
    std::unique_ptr<fleet> shards;
    if (time == "real") {
      shard_cfg.emplace();
      configure_plsim_runtime(*shard_cfg, true);
      shard_sys.emplace(*shard_cfg);
      shards = std::make_unique<fleet>(*shard_sys);
      auto& c = shards->config();
      c.plc_url = daemon ? daemon->url() : plc_url;
      c.plc_cafile = plc_cafile;
      if (daemon) {
        c.push_host = daemon->push_host();
        c.push_port = daemon->push_port();
      } else if (!plc_push.empty()) {
        std::tie(c.push_host, c.push_port) = split_host_port(plc_push);
      }
      c.seed = sc.seed;
      auto self_exe = fs::read_symlink("/proc/self/exe");
      for (int k = 0; k < shard_processes; ++k)
        shards->spawn_process(self_exe);
      for (const auto& a : shard_addresses) {
        auto [host, port] = split_host_port(a);
        shards->join(host, port);
      }
      if (shards->size() == 0)
        shards->add_local(node_clock);
      opt.shards = shards.get();
    }
    auto report = run_scenario(sc, *plc, opt);
    if (!quiet && tty)
      std::cerr << "\n";
    auto html = write_outputs(out, report);
    auto lat = std::vector<double>{};
    for (const auto& c : report.convergence)
      lat.push_back(c.latency);
    std::cout << "plsim: " << sc.name << " " << (report.passed() ? "PASSED" : "FAILED") << ": "
              << report.nodes << " nodes, " << report.final_slivers << " slivers, "
              << report.convergence.size() << " changes converged (p50 " << percentile(lat, 50)
              << " s, p99 " << percentile(lat, 99) << " s), " << report.plc_calls << " PLC calls, "
              << report.violations.size() << " violations, "
              << static_cast<std::int64_t>(report.rss_per_node_bytes / 1024) << " KiB per node\n";
    for (const auto& v : report.violations)
      std::cout << "  violation (" << v.invariant << "): " << v.what
                << (v.cause.empty() ? "" : "; after " + v.cause) << "\n";
    std::cout << "plsim: report " << html.string() << "\n";
    return report.passed() ? 0 : 1;
  } catch (const run_interrupted&) {
    std::cerr << "\nplsim: interrupted by signal " << stop_signal
              << "; the run's PLC and virtual nodes are gone, events.log holds the events so far\n";
    return 128 + stop_signal;
  } catch (const scenario_error& e) {
    std::cerr << "plsim: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "plsim: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "plsim: " << e.what() << "\n";
    return 3;
  }
}
