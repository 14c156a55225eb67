#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace pl::plc {

/// Everything plcd can be told, from its TOML file and command line.
struct plcd_config {
  // [http]
  std::string address = "127.0.0.1";
  std::uint16_t port = 443;
  bool tls = true;
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  std::size_t max_body_bytes = 64u << 20; ///< Largest request body; larger gets HTTP 413.
  std::size_t io_threads = 1;
  std::size_t worker_threads = 4;
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds drain_timeout{30};

  // [db]
  std::string db_conninfo;      ///< libpq connection string; empty with dev mode.
  std::size_t db_pool_size = 8; ///< Most connections open at once.
  std::chrono::milliseconds db_acquire_timeout{10000};
  std::chrono::milliseconds db_statement_timeout{30000}; ///< Longest statement; 0 for none.

  // [auth]: failed password logins, per account and per source address
  bool auth_throttle = true;
  std::size_t auth_account_failures =
      5; ///< Failures of one account within the window that block it.
  std::size_t auth_address_failures =
      20; ///< Failures from one address within the window that block it.
  std::chrono::seconds auth_window{300}; ///< How long a failure counts.
  std::size_t auth_max_tracked = 65536;  ///< Most accounts plus addresses remembered.
  // [plc]
  std::string hrn_root = "plc"; ///< PLC_HRN_ROOT: the SFA authority of the hrn tags.
  /// The conf files' sources, served read-only at `https://PLC/PlanetLabConf/<path>` (a
  /// ConfFile's `source` is `PlanetLabConf/<path>`). Empty: --dev uses <data_dir>/PlanetLabConf,
  /// otherwise nothing is served there (every fetch is 404).
  std::filesystem::path conf_dir;
  std::size_t conf_max_bytes = 16u << 20; ///< Largest conf file served; larger ones get 403.

  // [mail]
  std::string mail_backend;             ///< "spool" or "smtp"; empty: spool with --dev, else smtp.
  std::filesystem::path mail_spool_dir; ///< Spool backend; --dev default <data_dir>/mail.
  std::string smtp_host = "localhost";
  std::uint16_t smtp_port = 25;
  std::chrono::milliseconds smtp_timeout{10000}; ///< Bound on each SMTP step.
  std::string mail_from;                         ///< Sender address; empty: support_address.
  std::string plc_name = "PlanetLab";            ///< PLC_NAME in templates.
  std::string mail_support_address = "support@localhost"; ///< PLC_MAIL_SUPPORT_ADDRESS.
  std::string www_host = "localhost";                     ///< PLC_WWW_HOST.
  std::uint16_t www_port = 443;                           ///< PLC_WWW_SSL_PORT.
  std::string mail_boot_address; ///< PLC_MAIL_BOOT_ADDRESS: gets every boot message; empty: none.

  // [flavour]: GetNodeFlavour's defaults for nodes without the tags (PLC_FLAVOUR_*)
  std::string flavour_node_arch = "x86_64";
  std::string flavour_node_fcdistro = "f18";
  std::string flavour_node_pldistro = "planetlab";
  std::string flavour_virt_map = " f8,f12,f14,centos5,centos6:vs; default:lxc ";

  // [tickets]: GetSliceTicket's signing key (actors/ticket_keys.hpp)
  /// PLC's Ed25519 ticket key (PEM, mode 0600), made at the first start when missing;
  /// the public half is written beside it (`.pub`). Empty: --dev uses
  /// <data_dir>/keys/ticket.key, otherwise tickets are off (GetSliceTicket: fault 109).
  std::filesystem::path ticket_key_file;
  /// Longest validity of a ticket; a ticket never outlives its slice either.
  std::chrono::seconds ticket_lifetime{24 * 3600};

  // [push]: the CAF middleman endpoint node managers connect to (plc/push)
  bool push_enabled = false;
  std::string push_address = "127.0.0.1";
  std::uint16_t push_port = 8444; ///< 0 picks a free one (printed at start).
  /// TLS through CAF's OpenSSL module: PLC's certificate and key, and the CA
  /// that signs the node managers' certificates (CAF verifies both sides).
  /// Needed off loopback; empty: plain TCP.
  std::filesystem::path push_cert_file;
  std::filesystem::path push_key_file;
  std::filesystem::path push_cafile;

  // [tickets] pl3_key: PLC_API_TICKET_KEY, the RSA key (PEM) signing the PlanetLab 3.0
  /// tickets of SliceGetTicket/SliceTicketGet (XML-DSig, RSA-SHA1). Empty: --dev makes
  /// <data_dir>/keys/pl3_ticket.key (public half beside it, `.pub`), otherwise those
  /// methods answer fault 111 "Slice ticket signing key not found", as the original.
  std::filesystem::path pl3_ticket_key_file;

  // dev mode (embedded default)
  bool dev = false;
  std::filesystem::path data_dir; ///< Cluster, certificate and state of dev mode.
  std::string admin_email = "admin@localhost";
  bool reset_admin_password = false;
};

/// Reads a TOML file into `cfg`, leaving unset keys as they are; throws
/// std::runtime_error naming the file, key and problem.
void load_toml(const std::filesystem::path& file, plcd_config& cfg);

/// Returns the default dev data directory: /var/lib/planetlab/plcd-dev as
/// root, else $XDG_DATA_HOME (or ~/.local/share)/planetlab/plcd-dev.
std::filesystem::path default_dev_data_dir();

} // namespace pl::plc
