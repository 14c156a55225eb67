// nodemgr: the node manager daemon (issue #6). Reads plnode.txt, pulls
// GetSlivers from PLC and takes PLC's pushes, and turns them into slivers on
// the linux or sim driver backend; serves the local API. See node/README.md.
#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "actors/clock.hpp"
#include "actors/runtime_config.hpp"
#include "actors/ticket_keys.hpp"
#include "actors/xmlrpc_client.hpp"
#include "drivers/backend.hpp"
#include "drivers/linux/net_driver.hpp"
#include "drivers/mechanism_driver.hpp"
#include "node/conf_file_installer.hpp"
#include "node/local_api_service.hpp"
#include "node/login.hpp"
#include "node/metrics.hpp"
#include "node/node_manager.hpp"
#include "node/plc_sync.hpp"
#include "node/wiring.hpp"

namespace {

namespace fs = std::filesystem;

struct nodemgr_config {
  std::string plc_url;
  std::string plc_cafile;
  std::string auth = "session";
  fs::path node_config = "/etc/planetlab/plnode.txt";
  std::string backend = "linux";
  fs::path state_dir = "/var/lib/planetlab/nodemgr";
  std::int64_t poll_interval = 600; ///< seconds; 0: no polling
  std::int64_t poll_jitter = 300;
  std::string push; ///< host:port; empty: no push
  std::string push_cert, push_key, push_cafile;
  double cpu_reservable = 0.8;
  std::int64_t api_port = 812; ///< -1: no TCP port
  fs::path api_run_dir = "/run/planetlab/nodemgr/api";
  fs::path ticket_key; ///< PLC's public ticket key; empty: tickets refused
  /// PLC's longest ticket lifetime, seconds.
  std::int64_t ticket_lifetime = 86400;
  /// Prometheus /metrics port on loopback (0: any free port; -1: none).
  std::int64_t metrics_port = -1;
  /// Installs GetSlivers' conf_files: on, off, auto (on for linux, off for sim).
  std::string conf_files = "auto";
  fs::path conf_files_root = "/";
  /// Serves the conf files; empty: the host of plc_url.
  std::string boot_host;
  /// Daily byte caps; they need the linux net driver (net_device).
  bool byte_caps = true;
  std::int64_t byte_cap_period = 300;
  std::string cgroup_parent = "planetlab";
  fs::path images_dir = "/var/lib/planetlab/images";
  std::string net_device;
  /// Slice logins (linux backend): host accounts with pl-vsh and their keys.
  bool login = true;
  fs::path login_vsh = "/usr/local/sbin/pl-vsh";
  std::string login_group = "slices";
};

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument(what);
}

template <class T>
void read(const toml::table& tbl, std::string_view section, std::string_view key, T& out,
          const fs::path& file) {
  auto node = tbl[section][key];
  if (!node)
    return;
  std::string where = file.string() + ": " + std::string{section} + "." + std::string{key};
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, fs::path>) {
    auto v = node.template value<std::string>();
    if (!v)
      bad(where + " must be a string");
    out = *v;
  } else if constexpr (std::is_same_v<T, double>) {
    auto v = node.template value<double>();
    if (!v)
      bad(where + " must be a number");
    out = *v;
  } else {
    auto v = node.template value<std::int64_t>();
    if (!v)
      bad(where + " must be a whole number");
    out = *v;
  }
}

void load_toml(const fs::path& file, nodemgr_config& c) {
  toml::table tbl;
  try {
    tbl = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    bad(file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
        std::string{e.description()});
  }
  read(tbl, "plc", "url", c.plc_url, file);
  read(tbl, "plc", "cafile", c.plc_cafile, file);
  read(tbl, "plc", "auth", c.auth, file);
  read(tbl, "node", "config", c.node_config, file);
  read(tbl, "node", "backend", c.backend, file);
  read(tbl, "node", "state_dir", c.state_dir, file);
  read(tbl, "node", "cpu_reservable", c.cpu_reservable, file);
  read(tbl, "poll", "interval_s", c.poll_interval, file);
  read(tbl, "poll", "jitter_s", c.poll_jitter, file);
  read(tbl, "push", "address", c.push, file);
  read(tbl, "push", "cert", c.push_cert, file);
  read(tbl, "push", "key", c.push_key, file);
  read(tbl, "push", "cafile", c.push_cafile, file);
  read(tbl, "api", "port", c.api_port, file);
  read(tbl, "api", "run_dir", c.api_run_dir, file);
  read(tbl, "api", "ticket_key", c.ticket_key, file);
  read(tbl, "api", "ticket_lifetime_s", c.ticket_lifetime, file);
  read(tbl, "metrics", "port", c.metrics_port, file);
  if (auto v = tbl["conf_files"]["enabled"]; v) {
    if (!v.is_boolean())
      bad(file.string() + ": conf_files.enabled must be true or false");
    c.conf_files = *v.value<bool>() ? "on" : "off";
  }
  read(tbl, "conf_files", "root", c.conf_files_root, file);
  read(tbl, "conf_files", "boot_host", c.boot_host, file);
  if (auto v = tbl["byte_caps"]["enabled"]; v) {
    if (!v.is_boolean())
      bad(file.string() + ": byte_caps.enabled must be true or false");
    c.byte_caps = *v.value<bool>();
  }
  read(tbl, "byte_caps", "period_s", c.byte_cap_period, file);
  read(tbl, "drivers", "cgroup_parent", c.cgroup_parent, file);
  read(tbl, "drivers", "images_dir", c.images_dir, file);
  read(tbl, "drivers", "net_device", c.net_device, file);
  if (auto v = tbl["login"]["enabled"]; v) {
    if (!v.is_boolean())
      bad(file.string() + ": login.enabled must be true or false");
    c.login = *v.value<bool>();
  }
  read(tbl, "login", "vsh", c.login_vsh, file);
  read(tbl, "login", "group", c.login_group, file);
}

/// Splits `host:port` (`[v6]:port` too); throws with the reason.
std::pair<std::string, std::uint16_t> host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    bad("--push: expected host:port, got \"" + text + "\"");
  auto host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::int64_t port = 0;
  try {
    std::size_t used = 0;
    port = std::stoll(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1)
      port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 1 || port > 65535)
    bad("--push: the port in \"" + text + "\" must be 1..65535");
  return {host, static_cast<std::uint16_t>(port)};
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void check(nodemgr_config& c) {
  if (c.backend != "linux" && c.backend != "sim")
    bad("--backend must be linux or sim, not \"" + c.backend + "\"");
  if (c.auth != "session" && c.auth != "hmac")
    bad("plc.auth must be session or hmac, not \"" + c.auth + "\"");
  if (c.poll_interval < 0 || c.poll_jitter < 0)
    bad("--poll-interval and poll.jitter_s must not be negative");
  if (c.poll_interval > 0 && c.plc_url.empty())
    bad("polling needs --plc-url (or [plc] url); --poll-interval 0 turns polling off");
  if (c.poll_interval == 0 && c.push.empty())
    bad("neither polling (--poll-interval > 0) nor push (--push host:port): nothing would "
        "reach this node");
  if (c.cpu_reservable <= 0 || c.cpu_reservable > 1)
    bad("node.cpu_reservable must be in (0, 1]");
  if (c.api_port < -1 || c.api_port > 65535)
    bad("api.port must be 0..65535 (0: any free port; -1: no TCP port)");
  if (c.metrics_port < -1 || c.metrics_port > 65535)
    bad("--metrics-port must be 0..65535 (0: any free port; -1: none)");
  if (c.conf_files != "on" && c.conf_files != "off" && c.conf_files != "auto")
    bad("--conf-files must be on, off or auto, not \"" + c.conf_files + "\"");
  if (c.byte_cap_period < 1)
    bad("byte_caps.period_s must be at least 1");
  if (c.ticket_lifetime < 1)
    bad("api.ticket_lifetime_s must be at least 1");
  bool tls = !c.push_cert.empty() || !c.push_key.empty() || !c.push_cafile.empty();
  if (tls && (c.push_cert.empty() || c.push_key.empty() || c.push_cafile.empty()))
    bad("push.cert, push.key and push.cafile go together");
  if (!c.push.empty() && !tls && !is_loopback(host_port(c.push).first))
    bad("--push " + c.push +
        ": off loopback the push link needs TLS (push.cert, push.key, "
        "push.cafile)");
}

/// Connects the node manager's hooks to the local API, which starts after
/// the node manager (it needs its handle): what arrives before is kept and
/// handed over by `attach`.
class api_link {
public:
  void slivers(const std::vector<std::string>& names) {
    std::lock_guard lock{mutex_};
    slivers_ = names;
    if (api_)
      sync();
  }

  void revoked(const std::string& name, std::int64_t at, std::int64_t latest_expiry) {
    std::lock_guard lock{mutex_};
    if (api_)
      revoke(name, at, latest_expiry);
    else
      revocations_.emplace_back(name, at, latest_expiry);
  }

  void attach(pl::node::local_api_service* api) {
    std::lock_guard lock{mutex_};
    api_ = api;
    if (!api_)
      return;
    for (const auto& [name, at, latest] : revocations_)
      revoke(name, at, latest);
    revocations_.clear();
    if (slivers_)
      sync();
  }

private:
  void sync() {
    for (const auto& [name, why] : api_->sync_slivers(*slivers_))
      spdlog::error("node.api event=socket_failed sliver={} error=\"{}\"", name, why);
  }

  void revoke(const std::string& name, std::int64_t at, std::int64_t latest) {
    if (auto err = api_->tickets().revoke_slice(name, at, latest))
      spdlog::error("node.tickets event=revoke_failed slice={} error=\"{}\"", name, *err);
    else
      spdlog::info("node.tickets event=slice_revoked slice={} revoked_at={} until={}", name, at,
                   latest);
  }

  std::mutex mutex_;
  pl::node::local_api_service* api_ = nullptr;
  std::optional<std::vector<std::string>> slivers_;
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> revocations_;
};

/// Returns `host[:port]` of an http(s) URL, the port only when not the
/// scheme's default (PLC_BOOT_HOST defaults to PLC's own address).
std::string url_host(const std::string& url) {
  std::string why;
  auto u = pl::parse_endpoint_url(url, &why);
  if (!u)
    return {};
  auto host = u->host.find(':') != std::string::npos ? "[" + u->host + "]" : u->host;
  if (u->port != (u->tls ? "443" : "80"))
    host += ":" + u->port;
  return host;
}

int run(nodemgr_config c) {
  auto node = pl::node::load_plnode(c.node_config);
  if (!node)
    bad(pl::drivers::describe(node.error()));
  std::error_code ec;
  fs::create_directories(c.state_dir, ec);
  if (ec)
    throw std::runtime_error("cannot create " + c.state_dir.string() + ": " + ec.message());

  bool push = !c.push.empty();
  bool push_tls = !c.push_cert.empty();
  caf::actor_system_config actor_cfg;
  pl::configure_runtime(actor_cfg, {.middleman = push, .max_threads = 2});
  if (push_tls) {
    actor_cfg.openssl_certificate = c.push_cert;
    actor_cfg.openssl_key = c.push_key;
    actor_cfg.openssl_cafile = c.push_cafile;
    actor_cfg.load<caf::openssl::manager>();
  }
  caf::actor_system sys{actor_cfg};
  pl::system_clock_source clock;

  pl::drivers::backend_options bopts;
  bopts.kind = c.backend;
  bopts.state_dir = c.state_dir / "drivers";
  bopts.cgroup_parent = c.cgroup_parent;
  bopts.images_dir = c.images_dir;
  bopts.net_device = c.net_device;
  bopts.api_run_dir = c.api_run_dir;
  auto backend = pl::drivers::make_backend(bopts);
  if (!backend)
    throw std::runtime_error("driver backend " + c.backend + ": " +
                             pl::drivers::describe(backend.error()));
  if (c.backend == "linux" && c.login) {
    // Each sliver also gets its host account (login shell pl-vsh) and keys.
    pl::node::login::login_options lo{
        .vsh = c.login_vsh, .keys_dir = c.state_dir / "keys", .group = c.login_group};
    std::error_code vsh_ec;
    if (!fs::exists(lo.vsh, vsh_ec))
      spdlog::warn("node.login event=no_vsh path={} (plnode-setup ssh installs it)",
                   lo.vsh.string());
    backend->containers = pl::node::login::with_logins(backend->containers, lo);
  }
  auto actors = pl::node::spawn_node_actors(sys, *backend);

  pl::node::node_manager_config nm_cfg;
  nm_cfg.node_id = node->node_id;
  nm_cfg.hostname = node->hostname;
  nm_cfg.node_key = node->node_key;
  nm_cfg.capacity.cpu_reservable = c.cpu_reservable;
  nm_cfg.records_file = c.state_dir / "records";
  nm_cfg.clock = &clock;
  nm_cfg.slivers = actors.deps;
  // Push only (--poll-interval 0) still asks GetSlivers at the start and after
  // each push connect when it knows PLC's URL: pushes carry changes only.
  if (c.poll_interval > 0 || (push && !c.plc_url.empty())) {
    nm_cfg.poll.fetch = pl::node::make_get_slivers_fetch(
        {.url = c.plc_url,
         .ca_file = c.plc_cafile,
         .node = *node,
         .auth = c.auth == "hmac" ? pl::node::plc_auth::hmac : pl::node::plc_auth::session,
         .io_timeout = std::chrono::seconds(std::max<std::int64_t>(c.poll_interval / 2, 30))});
    nm_cfg.poll.interval = std::chrono::seconds(c.poll_interval);
    nm_cfg.poll.jitter = std::chrono::seconds(c.poll_jitter);
  }
  if (push) {
    auto [host, port] = host_port(c.push);
    nm_cfg.push.enabled = true;
    nm_cfg.push.host = host;
    nm_cfg.push.port = port;
    nm_cfg.push.tls = push_tls;
  }
  auto link = std::make_shared<api_link>();
  nm_cfg.hooks.slivers = [link](const std::vector<std::string>& names) { link->slivers(names); };
  nm_cfg.hooks.revoked = [link](const std::string& name, std::int64_t at, std::int64_t latest) {
    link->revoked(name, at, latest);
  };
  nm_cfg.ticket_lifetime = std::chrono::seconds(c.ticket_lifetime);
  auto metrics = std::make_shared<pl::node::node_metrics>();
  nm_cfg.metrics = metrics;
  bool conf_files = c.conf_files == "on" || (c.conf_files == "auto" && c.backend == "linux");
  if (conf_files) {
    auto boot_host = c.boot_host.empty() ? url_host(c.plc_url) : c.boot_host;
    if (boot_host.empty())
      bad("conf files need a boot host: [conf_files] boot_host or --plc-url (or --conf-files "
          "off)");
    pl::node::conf_file_options copts{boot_host, node->node_id, c.conf_files_root};
    pl::node::conf_file_hooks hooks;
    hooks.fetch = [ca = c.plc_cafile](const std::string& url) {
      return pl::node::http_get(url, {.ca_file = ca});
    };
    auto installer = std::make_shared<pl::node::conf_file_installer>(copts, hooks);
    nm_cfg.conf_files.install = [installer](const std::vector<pl::node::conf_file>& files) {
      return installer->install_all(files);
    };
    spdlog::info("node.conf_files event=enabled boot_host={} root={}", boot_host,
                 c.conf_files_root.string());
  }
  if (c.byte_caps) {
    // Transmit counters come from the linux net driver's HTB classes.
    std::shared_ptr<pl::drivers::override_driver> net;
    if (auto i = backend->drivers.find(pl::mechanism::net); i != backend->drivers.end())
      net = i->second;
    if (net && dynamic_cast<pl::drivers::linux_net::net_driver*>(&net->inner()) && actors.net) {
      nm_cfg.byte_caps.read = [net](const std::vector<std::string>& names)
          -> caf::expected<std::map<std::string, pl::node::tx_counters>> {
        auto& drv = dynamic_cast<pl::drivers::linux_net::net_driver&>(net->inner());
        auto all = drv.transmit_counters();
        if (!all)
          return all.error();
        std::map<std::string, pl::node::tx_counters> out;
        for (const auto& n : names)
          if (auto i = all->find(n); i != all->end())
            out[n] = {i->second.first, i->second.second};
        return out;
      };
      nm_cfg.byte_caps.period = std::chrono::seconds(c.byte_cap_period);
      nm_cfg.byte_caps.state_file = c.state_dir / "bytecaps";
    } else {
      spdlog::info("node.bytecap event=off reason=\"the {} backend has no transmit counters "
                   "(the linux backend with a net device has)\"",
                   c.backend);
    }
  }
  auto nm = pl::node::spawn_node_manager(sys, std::move(nm_cfg));
  if (!nm) {
    pl::node::stop_node_actors(actors);
    throw std::runtime_error(pl::drivers::describe(nm.error()));
  }

  std::unique_ptr<pl::node::local_api_service> api;
  {
    pl::node::local_api_config acfg;
    acfg.node_id = node->node_id;
    if (c.api_port >= 0)
      acfg.server.tcp_port = static_cast<std::uint16_t>(c.api_port);
    else
      acfg.server.tcp_port.reset();
    acfg.server.run_dir = c.api_run_dir;
    acfg.state_dir = c.state_dir;
    if (!c.ticket_key.empty()) {
      auto key = pl::verify_key::load(c.ticket_key);
      if (!key)
        throw std::runtime_error(c.ticket_key.string() + ": " + key.error());
      acfg.ticket_keys.add(*key);
    }
    auto started = pl::node::start_local_api(sys, *nm, std::move(acfg), clock);
    if (!started) {
      caf::anon_send_exit(*nm, caf::exit_reason::user_shutdown);
      pl::node::stop_node_actors(actors);
      throw std::runtime_error("local API: " + started.error());
    }
    api = std::move(*started);
    link->attach(api.get());
    if (c.api_port >= 0)
      std::cout << "nodemgr: local API on 127.0.0.1:" << api->tcp_port() << std::endl;
    std::cout << "nodemgr: sliver sockets under " << c.api_run_dir.string() << std::endl;
  }
  std::unique_ptr<pl::node::metrics_server> metrics_http;
  if (c.metrics_port >= 0) {
    auto started = pl::node::metrics_server::start(metrics, "127.0.0.1",
                                                   static_cast<std::uint16_t>(c.metrics_port));
    if (!started) {
      link->attach(nullptr);
      api->stop();
      caf::anon_send_exit(*nm, caf::exit_reason::user_shutdown);
      pl::node::stop_node_actors(actors);
      throw std::runtime_error(started.error());
    }
    metrics_http = std::move(*started);
    std::cout << "nodemgr: metrics on http://127.0.0.1:" << metrics_http->port() << "/metrics"
              << std::endl;
  }
  std::cout << "nodemgr: node " << node->node_id << " (" << node->hostname << "), backend "
            << c.backend << ", state " << c.state_dir.string()
            << (c.poll_interval > 0 ? ", polling " + c.plc_url : std::string{})
            << (push ? ", push " + c.push : std::string{}) << std::endl;

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("node.manager event=stopping signal={}", sig);
  if (metrics_http)
    metrics_http->stop();
  link->attach(nullptr);
  if (api)
    api->stop();
  caf::anon_send_exit(*nm, caf::exit_reason::user_shutdown);
  pl::node::stop_node_actors(actors);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so sigwait gets them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  CLI::App app{"nodemgr: the PlanetLab node manager (turns PLC's slices into slivers)"};
  nodemgr_config c;
  std::string config_file;
  std::optional<std::string> plc_url, cafile, node_config, backend, state_dir, push;
  std::optional<std::int64_t> poll_interval, metrics_port;
  std::optional<std::string> conf_files;
  app.add_option("--config", config_file,
                 "TOML configuration file; settings found only there: [conf_files] root, "
                 "boot_host; [login] enabled, vsh, group (slice logins on the linux backend: "
                 "host accounts with pl-vsh as shell in that group); [drivers], [byte_caps], "
                 "[api] (see node/README.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--plc-url", plc_url, "PLCAPI URL, e.g. https://plc.example.org/PLCAPI/");
  app.add_option("--cafile", cafile, "CA (or PLC's self-signed certificate) for HTTPS");
  app.add_option("--node-config", node_config,
                 "plnode.txt from GenerateNodeConfFile (default /etc/planetlab/plnode.txt)");
  app.add_option("--backend", backend, "driver backend: linux or sim (default linux)");
  app.add_option("--state-dir", state_dir,
                 "records and driver state (default /var/lib/planetlab/nodemgr)");
  app.add_option("--poll-interval", poll_interval,
                 "seconds between GetSlivers polls, plus jitter (default 600; 0: none, "
                 "except at the start and after each push connect when PLC's URL is known)");
  app.add_option("--push", push, "PLC's push endpoint host:port (default: no push)");
  app.add_option("--metrics-port", metrics_port,
                 "Prometheus /metrics on 127.0.0.1:PORT (0: any free port, printed; "
                 "default -1: none)");
  app.add_option("--conf-files", conf_files,
                 "install GetSlivers' conf_files: on, off, auto (default: on for linux, off "
                 "for sim)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (!config_file.empty())
      load_toml(config_file, c);
    if (plc_url)
      c.plc_url = *plc_url;
    if (cafile)
      c.plc_cafile = *cafile;
    if (node_config)
      c.node_config = *node_config;
    if (backend)
      c.backend = *backend;
    if (state_dir)
      c.state_dir = *state_dir;
    if (push)
      c.push = *push;
    if (poll_interval)
      c.poll_interval = *poll_interval;
    if (metrics_port)
      c.metrics_port = *metrics_port;
    if (conf_files)
      c.conf_files = *conf_files;
    check(c);
  } catch (const std::invalid_argument& e) {
    std::cerr << "nodemgr: " << e.what() << std::endl;
    return 2;
  }
  try {
    return run(std::move(c));
  } catch (const std::invalid_argument& e) {
    std::cerr << "nodemgr: " << e.what() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "nodemgr: " << e.what() << std::endl;
    return 1;
  }
}
