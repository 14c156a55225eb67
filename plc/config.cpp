#include "plc/config.hpp"

#include <toml++/toml.h>

#include <cstdlib>
#include <stdexcept>
#include <unistd.h>

namespace pl::plc {

namespace {

template <class T>
void read(const toml::table& tbl, std::string_view section, std::string_view key, T& out,
          const std::filesystem::path& file) {
  auto node = tbl[section][key];
  if (!node)
    return;
  std::string where = file.string() + ": " + std::string{section} + "." + std::string{key};
  if constexpr (std::is_same_v<T, bool>) {
    auto v = node.value<bool>();
    if (!v)
      throw std::runtime_error(where + " must be true or false");
    out = *v;
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::filesystem::path>) {
    auto v = node.value<std::string>();
    if (!v)
      throw std::runtime_error(where + " must be a string");
    out = *v;
  } else if constexpr (std::is_integral_v<T>) {
    auto v = node.value<std::int64_t>();
    if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > std::numeric_limits<T>::max())
      throw std::runtime_error(where + " must be a whole number from 0 to " +
                               std::to_string(std::numeric_limits<T>::max()));
    out = static_cast<T>(*v);
  } else {
    auto v = node.value<std::int64_t>();
    if (!v || *v < 0)
      throw std::runtime_error(where + " must be a non-negative whole number");
    out = T{*v};
  }
}

} // namespace

void load_toml(const std::filesystem::path& file, plcd_config& cfg) {
  toml::table tbl;
  try {
    tbl = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                             std::string{e.description()});
  }
  read(tbl, "http", "address", cfg.address, file);
  read(tbl, "http", "port", cfg.port, file);
  read(tbl, "http", "tls", cfg.tls, file);
  read(tbl, "http", "cert", cfg.cert_file, file);
  read(tbl, "http", "key", cfg.key_file, file);
  read(tbl, "http", "max_body_bytes", cfg.max_body_bytes, file);
  read(tbl, "http", "io_threads", cfg.io_threads, file);
  read(tbl, "http", "worker_threads", cfg.worker_threads, file);
  read(tbl, "http", "idle_timeout_s", cfg.idle_timeout, file);
  read(tbl, "http", "drain_timeout_s", cfg.drain_timeout, file);
  read(tbl, "db", "conninfo", cfg.db_conninfo, file);
  read(tbl, "db", "pool_size", cfg.db_pool_size, file);
  read(tbl, "db", "acquire_timeout_ms", cfg.db_acquire_timeout, file);
  read(tbl, "db", "statement_timeout_ms", cfg.db_statement_timeout, file);
  read(tbl, "auth", "throttle", cfg.auth_throttle, file);
  read(tbl, "auth", "account_failures", cfg.auth_account_failures, file);
  read(tbl, "auth", "address_failures", cfg.auth_address_failures, file);
  read(tbl, "auth", "window_s", cfg.auth_window, file);
  read(tbl, "auth", "max_tracked", cfg.auth_max_tracked, file);
  read(tbl, "plc", "hrn_root", cfg.hrn_root, file);
  read(tbl, "plc", "conf_dir", cfg.conf_dir, file);
  read(tbl, "plc", "conf_max_bytes", cfg.conf_max_bytes, file);
  std::string backend = cfg.mail_backend;
  read(tbl, "mail", "backend", backend, file);
  if (!backend.empty() && backend != "spool" && backend != "smtp")
    throw std::runtime_error(file.string() + ": mail.backend must be \"spool\" or \"smtp\"");
  cfg.mail_backend = backend;
  read(tbl, "mail", "spool_dir", cfg.mail_spool_dir, file);
  read(tbl, "mail", "smtp_host", cfg.smtp_host, file);
  read(tbl, "mail", "smtp_port", cfg.smtp_port, file);
  read(tbl, "mail", "smtp_timeout_ms", cfg.smtp_timeout, file);
  read(tbl, "mail", "from", cfg.mail_from, file);
  read(tbl, "mail", "plc_name", cfg.plc_name, file);
  read(tbl, "mail", "support_address", cfg.mail_support_address, file);
  read(tbl, "mail", "www_host", cfg.www_host, file);
  read(tbl, "mail", "www_port", cfg.www_port, file);
  read(tbl, "mail", "boot_address", cfg.mail_boot_address, file);
  read(tbl, "flavour", "node_arch", cfg.flavour_node_arch, file);
  read(tbl, "flavour", "node_fcdistro", cfg.flavour_node_fcdistro, file);
  read(tbl, "flavour", "node_pldistro", cfg.flavour_node_pldistro, file);
  read(tbl, "flavour", "virt_map", cfg.flavour_virt_map, file);
  read(tbl, "tickets", "key", cfg.ticket_key_file, file);
  auto lifetime = cfg.ticket_lifetime;
  read(tbl, "tickets", "lifetime_s", lifetime, file);
  if (lifetime.count() <= 0)
    throw std::runtime_error(file.string() + ": tickets.lifetime_s must be at least 1");
  cfg.ticket_lifetime = lifetime;
  read(tbl, "push", "enabled", cfg.push_enabled, file);
  read(tbl, "push", "address", cfg.push_address, file);
  read(tbl, "push", "port", cfg.push_port, file);
  auto cert = cfg.push_cert_file, key = cfg.push_key_file, cafile = cfg.push_cafile;
  read(tbl, "push", "cert", cert, file);
  read(tbl, "push", "key", key, file);
  read(tbl, "push", "cafile", cafile, file);
  if (cert.empty() != key.empty() || cert.empty() != cafile.empty())
    throw std::runtime_error(file.string() +
                             ": push.cert, push.key and push.cafile go together (TLS needs all "
                             "three; none: plain TCP, loopback only)");
  cfg.push_cert_file = cert;
  cfg.push_key_file = key;
  cfg.push_cafile = cafile;
  read(tbl, "tickets", "pl3_key", cfg.pl3_ticket_key_file, file);
  read(tbl, "dev", "data_dir", cfg.data_dir, file);
  read(tbl, "dev", "admin_email", cfg.admin_email, file);
}

std::filesystem::path default_dev_data_dir() {
  if (geteuid() == 0)
    return "/var/lib/planetlab/plcd-dev";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
    return std::filesystem::path{xdg} / "planetlab" / "plcd-dev";
  const char* home = std::getenv("HOME");
  return std::filesystem::path{home ? home : "."} / ".local" / "share" / "planetlab" / "plcd-dev";
}

} // namespace pl::plc
