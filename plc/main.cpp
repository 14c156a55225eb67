// plcd: the PlanetLab Central daemon (PLCAPI over HTTPS on PostgreSQL).
#include "actors/clock.hpp"
#include "actors/runtime_config.hpp"
#include "plc/api/boot.hpp"
#include "plc/api/conf_files.hpp"
#include "plc/api/dispatcher.hpp"
#include "plc/api/events.hpp"
#include "plc/api/keys.hpp"
#include "plc/api/leases.hpp"
#include "plc/api/legacy.hpp"
#include "plc/api/mailer.hpp"
#include "plc/api/messages.hpp"
#include "plc/api/nodegroups.hpp"
#include "plc/api/nodes.hpp"
#include "plc/api/organizations.hpp"
#include "plc/api/password.hpp"
#include "plc/api/pcus.hpp"
#include "plc/api/persons.hpp"
#include "plc/api/pl3_slices.hpp"
#include "plc/api/sessions.hpp"
#include "plc/api/sites.hpp"
#include "plc/api/slice_tags.hpp"
#include "plc/api/slices.hpp"
#include "plc/api/slivers.hpp"
#include "plc/api/tags.hpp"
#include "plc/api/throttle.hpp"
#include "plc/api/tickets.hpp"
#include "plc/config.hpp"
#include "plc/dev_setup.hpp"
#include "plc/http/metrics.hpp"
#include "plc/http/server.hpp"
#include "plc/push/service.hpp"
#include "plc/store/local_cluster.hpp"
#include "plc/store/migrations.hpp"
#include "plc/store/persons.hpp"
#include "plc/store/pool.hpp"
#include "plc/ticket_key.hpp"

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/send.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

namespace fs = std::filesystem;
using namespace pl;

namespace {

/// Gives the dev admin account its first password, or a new one when asked.
/// Returns the password to show, or nothing if the account already had one.
std::optional<std::string> ensure_dev_admin(plc::store::connection& conn,
                                            const plc::plcd_config& cfg, const pl::clock& clock) {
  auto existing = plc::store::find_person(conn, cfg.admin_email);
  if (existing && !cfg.reset_admin_password)
    return std::nullopt;
  std::string password = plc::random_password();
  std::string hash = plc::api::hash_password(password);
  if (existing) {
    plc::store::set_password_hash(conn, *existing, hash, clock);
  } else {
    plc::store::add_person(conn, {cfg.admin_email, "PLC", "Administrator", hash, true, {10}},
                           clock);
  }
  return password;
}

void register_pool_metrics(plc::http::metrics_registry& metrics,
                           plc::store::connection_pool& pool) {
  metrics.define_gauge("plc_db_pool_connections", "Database connections by state");
  metrics.set_callback("plc_db_pool_connections",
                       [&pool] { return static_cast<double>(pool.stats().capacity); },
                       {{"state", "capacity"}});
  metrics.set_callback("plc_db_pool_connections",
                       [&pool] { return static_cast<double>(pool.stats().open); },
                       {{"state", "open"}});
  metrics.set_callback("plc_db_pool_connections",
                       [&pool] { return static_cast<double>(pool.stats().in_use); },
                       {{"state", "in_use"}});
  metrics.set_callback("plc_db_pool_connections",
                       [&pool] { return static_cast<double>(pool.stats().waiting); },
                       {{"state", "waiting"}});
  metrics.define_gauge("plc_db_pool_timeouts",
                       "Requests that found no free database connection in time, since start");
  metrics.set_callback("plc_db_pool_timeouts",
                       [&pool] { return static_cast<double>(pool.stats().timeouts); });
}

/// Loads the RSA key of the PlanetLab 3.0 tickets (SliceGetTicket); nullptr
/// when none is configured, which makes those methods fault 111.
std::shared_ptr<const plc::api::pl3_ticket_signer>
load_pl3_ticket_signer(const plc::plcd_config& cfg) {
  if (cfg.pl3_ticket_key_file.empty()) {
    spdlog::warn("plc.pl3_tickets event=off reason=\"no [tickets] pl3_key configured\" "
                 "effect=\"SliceGetTicket answers fault 111\"");
    return nullptr;
  }
  auto signer = std::make_shared<const plc::api::pl3_ticket_signer>(cfg.pl3_ticket_key_file);
  spdlog::info("plc.pl3_tickets event=key_ready key={}", cfg.pl3_ticket_key_file.string());
  return signer;
}

/// Tells whether `address` is a loopback address (the push link may go without TLS there).
bool is_loopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

/// Loads PLC's ticket key, making it at the first start; nullopt when tickets are off.
std::optional<pl::signing_key> load_ticket_key(const plc::plcd_config& cfg) {
  auto file = plc::ticket_key_path(cfg);
  if (file.empty()) {
    spdlog::warn("plc.tickets event=off reason=\"no [tickets] key configured\" "
                 "effect=\"GetSliceTicket answers fault 109\"");
    return std::nullopt;
  }
  auto key = plc::ensure_ticket_key(file);
  auto pub = plc::ticket_public_key_path(file);
  spdlog::info("plc.tickets event=key_ready key={} public={} key_id={}", file.string(),
               pub.string(), pl::to_hex(key.id()));
  std::cout << "plcd: ticket key " << pub.string() << " (key id " << pl::to_hex(key.id())
            << "; also served at /ticket-key.pem)" << std::endl;
  return key;
}

/// The README --dev puts in a new conf file directory: what it is and how nodes get its files.
constexpr const char* conf_dir_readme =
    R"(Conf file sources of this PLC (served read-only at https://<PLC>/PlanetLabConf/<path>).

A ConfFile whose source is "PlanetLabConf/<path>" names the file <path> here. Node managers
fetch it over HTTPS with PLC's certificate (adding ?node_id=N, which is ignored) and install
it at the ConfFile's dest with its owner, group and mode, then run its postinstall_cmd.

  cp my-sudoers <this dir>/sudoers
  plc AddConfFile '{"source": "PlanetLabConf/sudoers", "dest": "/etc/sudoers",
                    "file_permissions": "0440", "file_owner": "root", "file_group": "root"}'

Only regular files are served (symbolic links must stay inside this directory); hidden names
(starting with a dot, such as .git) and paths with ".." are refused. Files are served as they
are: nothing here is generated per node.
)";

/// Makes the --dev conf file directory with its README the first time.
void ensure_dev_conf_dir(const fs::path& dir) {
  if (fs::exists(dir))
    return;
  fs::create_directories(dir);
  std::ofstream readme{dir / "README"};
  readme << conf_dir_readme;
  if (!readme.flush())
    throw std::runtime_error("cannot write " + (dir / "README").string());
}

int run(plc::plcd_config cfg) {
  pl::system_clock_source clock;
  std::optional<plc::store::local_cluster> cluster;
  if (cfg.dev) {
    if (cfg.data_dir.empty())
      cfg.data_dir = plc::default_dev_data_dir();
    fs::create_directories(cfg.data_dir);
    std::cout << "plcd: development mode, data in " << cfg.data_dir.string() << std::endl;
    cluster.emplace(cfg.data_dir / "pg");
    cluster->ensure_database("planetlab");
    cfg.db_conninfo = cluster->conninfo("planetlab");
    if (cfg.tls && cfg.cert_file.empty()) {
      cfg.cert_file = cfg.data_dir / "tls" / "plc.crt";
      cfg.key_file = cfg.data_dir / "tls" / "plc.key";
      plc::ensure_self_signed_certificate(cfg.cert_file, cfg.key_file);
    }
    if (cfg.conf_dir.empty()) {
      cfg.conf_dir = cfg.data_dir / "PlanetLabConf";
      ensure_dev_conf_dir(cfg.conf_dir);
    }
    if (cfg.pl3_ticket_key_file.empty())
      cfg.pl3_ticket_key_file = cfg.data_dir / "keys" / "pl3_ticket.key";
    if (plc::api::ensure_pl3_ticket_key(cfg.pl3_ticket_key_file))
      std::cout << "plcd: PL3 ticket key made; its public key is "
                << plc::api::pl3_ticket_public_key_path(cfg.pl3_ticket_key_file).string()
                << std::endl;
  }
  if (!cfg.conf_dir.empty() && !fs::is_directory(cfg.conf_dir))
    throw std::runtime_error("[plc] conf_dir " + cfg.conf_dir.string() +
                             " is not a directory (make it, or leave conf_dir unset)");
  if (cfg.db_conninfo.empty())
    throw std::runtime_error("no database: give [db] conninfo in --config, --db, or use --dev");
  if (cfg.tls && (cfg.cert_file.empty() || cfg.key_file.empty()))
    throw std::runtime_error("HTTPS needs --cert and --key (or [http] cert/key), or --plain-http");
  const bool push_tls = !cfg.push_cert_file.empty();
  if (cfg.push_enabled && !push_tls && !is_loopback(cfg.push_address))
    throw std::runtime_error("the push endpoint on " + cfg.push_address +
                             " needs TLS: give [push] cert, key and cafile (plain TCP is for "
                             "loopback only)");
  if (cfg.push_enabled && push_tls)
    plc::push::check_tls_files(cfg.push_cert_file.string(), cfg.push_key_file.string(),
                               cfg.push_cafile.string());
  auto ticket_key = load_ticket_key(cfg);

  // xmlrpc-c refuses XML beyond its own limit; keep it in step with the HTTP one.
  plc::api::dispatcher::set_xml_size_limit(cfg.max_body_bytes);

  plc::store::connection_pool pool{cfg.db_conninfo, cfg.db_pool_size, cfg.db_acquire_timeout,
                                   cfg.db_statement_timeout};
  {
    auto conn = pool.acquire();
    int version = plc::store::migrate(*conn, clock);
    plc::api::seed_slice_tag_types(*conn); // one tag type per resource of actors/
    spdlog::info("plc.store event=schema_ready version={}", version);
    if (cfg.dev) {
      if (auto password = ensure_dev_admin(*conn, cfg, clock))
        std::cout << "plcd: admin login " << cfg.admin_email << ", password: " << *password
                  << "  (shown once; --reset-admin-password makes a new one)" << std::endl;
      else
        std::cout << "plcd: admin login " << cfg.admin_email
                  << " (password as printed on the first run)" << std::endl;
    }
  }

  plc::api::login_throttle throttle{{cfg.auth_throttle, cfg.auth_account_failures,
                                     cfg.auth_address_failures, cfg.auth_window,
                                     cfg.auth_max_tracked},
                                    clock};
  std::string mail_backend =
      cfg.mail_backend.empty() ? (cfg.dev ? "spool" : "smtp") : cfg.mail_backend;
  if (mail_backend == "spool" && cfg.mail_spool_dir.empty()) {
    if (!cfg.dev)
      throw std::runtime_error("[mail] backend \"spool\" needs spool_dir");
    cfg.mail_spool_dir = cfg.data_dir / "mail";
  }
  auto mailer = plc::api::make_mailer(
      mail_backend,
      {cfg.plc_name, cfg.mail_support_address, cfg.www_host, cfg.www_port, cfg.mail_from,
       cfg.mail_boot_address},
      cfg.mail_spool_dir, {cfg.smtp_host, cfg.smtp_port, "localhost", cfg.smtp_timeout}, clock);
  if (mail_backend == "spool")
    std::cout << "plcd: mail spooled to " << cfg.mail_spool_dir.string() << std::endl;
  else
    spdlog::info("plc.mail event=smtp host={} port={}", cfg.smtp_host, cfg.smtp_port);

  // The actors: push link (node registry, gateway, slice directory) and the
  // ticket actors, fed by the database's change notifications.
  caf::actor_system_config actor_cfg;
  pl::configure_runtime(actor_cfg, {.middleman = true});
  if (cfg.push_enabled && push_tls) {
    actor_cfg.openssl_certificate = cfg.push_cert_file.string();
    actor_cfg.openssl_key = cfg.push_key_file.string();
    actor_cfg.openssl_cafile = cfg.push_cafile.string();
    actor_cfg.load<caf::openssl::manager>();
  }
  caf::actor_system actors{actor_cfg};
  plc::push::service push{actors, {&pool, cfg.db_conninfo, &clock, cfg.push_enabled}};
  if (cfg.push_enabled) {
    auto push_port = push.publish(cfg.push_address, cfg.push_port, push_tls);
    std::cout << "plcd: push endpoint " << cfg.push_address << ":" << push_port
              << (push_tls ? " (TLS)" : " (plain TCP, loopback)") << std::endl;
  }
  std::optional<plc::api::key_ticket_authority> tickets;
  if (ticket_key)
    tickets.emplace(*ticket_key, clock, cfg.ticket_lifetime,
                    [office = push.tickets()](const pl::ticket& record) {
                      caf::anon_send(office, caf::put_atom_v, record);
                    });

  plc::http::metrics_registry metrics;
  register_pool_metrics(metrics, pool);
  plc::api::dispatcher api{{&pool, &clock, &throttle, mailer.get(), cfg.hrn_root},
                           [&metrics](const std::string& method, int fault, double seconds) {
                             metrics.observe_call(method, fault, seconds);
                           }};
  plc::api::add_auth_methods(api);
  plc::api::add_session_methods(api);
  plc::api::add_event_methods(api);
  plc::api::add_message_methods(api);
  plc::api::add_mail_methods(api);
  plc::api::add_site_methods(api);
  plc::api::add_person_methods(api);
  plc::api::add_organization_methods(api);
  plc::api::add_tag_methods(api);
  plc::api::add_node_methods(api);
  plc::api::add_legacy_methods(api);
  plc::api::add_key_methods(api);
  plc::api::add_pcu_methods(api);
  plc::api::add_conf_file_methods(api);
  plc::api::add_boot_methods(api, {cfg.flavour_node_arch, cfg.flavour_node_fcdistro,
                                   cfg.flavour_node_pldistro, cfg.flavour_virt_map});
  plc::api::add_slice_methods(api);
  plc::api::add_slice_tag_methods(api);
  plc::api::add_lease_methods(api);
  plc::api::add_nodegroup_methods(api);
  plc::api::add_sliver_methods(api);
  plc::api::add_pl3_slice_methods(api, load_pl3_ticket_signer(cfg));
  plc::api::add_ticket_methods(api, tickets ? &*tickets : nullptr);

  plc::http::server_config http_cfg;
  http_cfg.address = cfg.address;
  http_cfg.port = cfg.port;
  http_cfg.tls = cfg.tls;
  http_cfg.cert_pem_file = cfg.cert_file.string();
  http_cfg.key_pem_file = cfg.key_file.string();
  http_cfg.max_body_bytes = cfg.max_body_bytes;
  http_cfg.io_threads = cfg.io_threads;
  http_cfg.worker_threads = cfg.worker_threads;
  http_cfg.idle_timeout = cfg.idle_timeout;
  http_cfg.drain_timeout = cfg.drain_timeout;
  if (tickets)
    http_cfg.documents["/ticket-key.pem"] = {"application/x-pem-file", tickets->public_key().pem()};
  if (!cfg.conf_dir.empty()) {
    http_cfg.file_trees.push_back({"/PlanetLabConf/", cfg.conf_dir, cfg.conf_max_bytes});
  } else {
    spdlog::info("plc.conf_files event=off reason=\"no [plc] conf_dir\" "
                 "effect=\"/PlanetLabConf/ answers 404\"");
  }
  plc::http::server server{http_cfg,
                           [&api](std::string_view body, const plc::http::request_info& req) {
                             return api.handle(body, req.peer_address);
                           },
                           metrics};
  server.start();
  std::string host =
      cfg.address.find(':') != std::string::npos ? "[" + cfg.address + "]" : cfg.address;
  std::cout << "plcd: listening on " << (cfg.tls ? "https" : "http") << "://" << host << ":"
            << server.port() << "/PLCAPI/" << std::endl;
  if (!cfg.conf_dir.empty())
    std::cout << "plcd: conf files served from " << cfg.conf_dir.string() << " at /PlanetLabConf/"
              << std::endl;
  if (cfg.tls && cfg.dev)
    std::cout << "plcd: certificate " << cfg.cert_file.string()
              << " (self-signed; give it to clients as their CA file)" << std::endl;
  server.run_until_stopped();
  spdlog::info("plcd event=stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"plcd: PlanetLab Central, the PLCAPI server (XML-RPC over HTTPS on PostgreSQL).\n"
               "Quick start: plcd --dev (a private database, a self-signed certificate and an\n"
               "admin account, all under --data-dir)."};
  plc::plcd_config cfg;
  std::string config_file;
  bool plain_http = false;
  std::string log_level = "info";
  std::optional<std::uint16_t> port;
  std::optional<std::uint16_t> push_port;
  bool print_ticket_key = false;
  app.add_option("-c,--config", config_file, "TOML configuration file ([http], [db], [dev])")
      ->check(CLI::ExistingFile);
  app.add_flag("--dev", cfg.dev,
               "Embedded default: private PostgreSQL, self-signed certificate, admin account");
  app.add_option("--data-dir", cfg.data_dir,
                 "Where --dev keeps its database and certificate (default: " +
                     plc::default_dev_data_dir().string() + ")");
  app.add_option("--address", cfg.address, "Address to listen on")->capture_default_str();
  app.add_option("-p,--port", port,
                 "Port to listen on; 0 picks a free one (default 443, 8443 with --dev)");
  app.add_flag("--plain-http", plain_http, "Serve plain HTTP (benchmarks on loopback only)");
  app.add_option("--cert", cfg.cert_file, "PEM certificate for HTTPS");
  app.add_option("--key", cfg.key_file, "PEM private key for HTTPS");
  app.add_option("--conf-dir", cfg.conf_dir,
                 "Directory of the conf files' sources, served at /PlanetLabConf/ (default with "
                 "--dev: <data-dir>/PlanetLabConf; [plc] conf_dir)");
  app.add_option("--db", cfg.db_conninfo, "libpq connection string of the PLC database");
  app.add_option("--db-pool", cfg.db_pool_size, "Most database connections")
      ->check(CLI::Range(1, 1000));
  app.add_option("--workers", cfg.worker_threads, "Threads executing API calls")
      ->check(CLI::Range(1, 1024));
  app.add_option("--io-threads", cfg.io_threads, "Threads doing network I/O")
      ->check(CLI::Range(1, 64));
  app.add_option("--max-body", cfg.max_body_bytes,
                 "Largest request body in bytes (larger: HTTP 413)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  app.add_option("--admin-email", cfg.admin_email, "Login of the --dev admin account")
      ->capture_default_str();
  app.add_flag("--reset-admin-password", cfg.reset_admin_password,
               "With --dev: give the admin account a new password and print it");
  app.add_option("--push-port", push_port,
                 "Serve the push endpoint for node managers on this port (0: any free one); "
                 "[push] in --config sets address and TLS");
  app.add_flag("--print-ticket-key", print_ticket_key,
               "Print PLC's public ticket key (PEM) and exit; makes the key if there is none");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto logger = spdlog::stderr_color_mt("plcd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));
  try {
    // The file gives the base; flags given on the command line win.
    plc::plcd_config from_file;
    if (!config_file.empty()) {
      plc::load_toml(config_file, from_file);
      auto flags = cfg;
      cfg = from_file;
      if (app.count("--dev"))
        cfg.dev = flags.dev;
      if (app.count("--data-dir"))
        cfg.data_dir = flags.data_dir;
      if (app.count("--address"))
        cfg.address = flags.address;
      if (app.count("--cert"))
        cfg.cert_file = flags.cert_file;
      if (app.count("--key"))
        cfg.key_file = flags.key_file;
      if (app.count("--db"))
        cfg.db_conninfo = flags.db_conninfo;
      if (app.count("--conf-dir"))
        cfg.conf_dir = flags.conf_dir;
      if (app.count("--db-pool"))
        cfg.db_pool_size = flags.db_pool_size;
      if (app.count("--workers"))
        cfg.worker_threads = flags.worker_threads;
      if (app.count("--io-threads"))
        cfg.io_threads = flags.io_threads;
      if (app.count("--max-body"))
        cfg.max_body_bytes = flags.max_body_bytes;
      if (app.count("--admin-email"))
        cfg.admin_email = flags.admin_email;
      cfg.reset_admin_password = flags.reset_admin_password;
    }
    if (port)
      cfg.port = *port;
    else if (cfg.dev && config_file.empty())
      cfg.port = 8443;
    if (plain_http)
      cfg.tls = false;
    if (push_port) {
      cfg.push_enabled = true;
      cfg.push_port = *push_port;
    }
    if (print_ticket_key) {
      if (cfg.dev && cfg.data_dir.empty())
        cfg.data_dir = plc::default_dev_data_dir();
      auto file = plc::ticket_key_path(cfg);
      if (file.empty())
        throw std::runtime_error("tickets are off: set [tickets] key in --config, or use --dev");
      std::cout << plc::ensure_ticket_key(file).public_key().pem() << std::flush;
      return 0;
    }
    return run(std::move(cfg));
  } catch (const std::exception& e) {
    std::cerr << "plcd: " << e.what() << std::endl;
    return 1;
  }
}
