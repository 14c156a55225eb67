#pragma once

// How the simulator reaches PLC. Two ways, one interface:
// - embedded: the real PLC code (plc/api's dispatcher, plc/store on a fresh
//   private PostgreSQL cluster) inside this process, on the simulation's
//   manual clock, so expiry, sessions and caches follow virtual time;
// - remote: a running PLC by URL (plcd --dev started by plsim, or any other),
//   over XML-RPC, in real time.
// Either way every call goes through PLCAPI's XML edge (argument checks,
// authentication, roles), as a node's or a user's would.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xmlrpc-c/base.hpp>

#include "actors/clock.hpp"
#include "actors/ticket_keys.hpp"
#include "actors/xmlrpc_client.hpp"

namespace pl::plc::store {
class connection_pool;
}

namespace pl::sim {

class plc_link {
public:
  virtual ~plc_link() = default;

  /// Calls `method(params...)`; never throws.
  virtual rpc_result call(const std::string& method,
                          const std::vector<xmlrpc_c::value>& params) = 0;

  /// The admin's auth struct (a session once `login` succeeded).
  xmlrpc_c::value admin_auth() const;

  /// Logs the admin in with a password and switches to session auth
  /// (password hashes are slow by design; sessions are not). Throws
  /// std::runtime_error when PLC refuses.
  void login(const std::string& email, const std::string& password);

  /// Logs in again with the same account (a session expires, also in
  /// virtual time); false when PLC refuses.
  bool relogin();

  /// What the link is, for the report ("embedded PLC on PostgreSQL 15 ...").
  virtual std::string describe() const = 0;

  /// PLC's public ticket key (what nodes install to verify GetSliceTicket's
  /// tickets); nullopt when the link does not know it.
  virtual std::optional<verify_key> ticket_key() const { return std::nullopt; }

  /// PLC's database when it runs in this process (for its push side), else null.
  virtual plc::store::connection_pool* database() { return nullptr; }

protected:
  std::string admin_email_;
  std::string admin_password_;
  std::string session_;
};

/// The real PLC in this process on a fresh database; its clock is `clock`.
/// Creates the admin account and logs in. Throws std::runtime_error (with
/// PostgreSQL's reason) when the cluster cannot start.
std::unique_ptr<plc_link> make_embedded_plc(const pl::clock& clock);

/// A PLC by URL (https needs `ca_file`, or verify off for a self-signed dev
/// certificate); logs in as `email`/`password`.
std::unique_ptr<plc_link> make_remote_plc(const std::string& url, const std::string& ca_file,
                                          const std::string& email, const std::string& password);

/// A throwaway `plcd --dev` on a fresh data directory, plain HTTP on a free
/// loopback port, stopped (and its directory removed) with this object.
class plcd_process {
public:
  /// Starts `plcd` (path) and waits until it prints its URL and admin
  /// password; throws std::runtime_error with its output when it does not.
  explicit plcd_process(const std::filesystem::path& plcd);
  ~plcd_process();
  plcd_process(const plcd_process&) = delete;
  plcd_process& operator=(const plcd_process&) = delete;

  const std::string& url() const { return url_; }
  const std::string& admin_email() const { return email_; }
  const std::string& admin_password() const { return password_; }
  /// Where PLC's push gateway listens (plcd's --push-port 0 on loopback):
  /// node managers connect there through the middleman.
  const std::string& push_host() const { return push_host_; }
  std::uint16_t push_port() const { return push_port_; }

private:
  std::filesystem::path dir_;
  int pid_ = -1;
  std::string url_;
  std::string email_ = "admin@localhost";
  std::string password_;
  std::string push_host_;
  std::uint16_t push_port_ = 0;
};

/// Returns the canonical HMAC a node sends with a call (PLCAPI's BootAuth).
xmlrpc_c::value node_auth(std::int32_t node_id, const std::string& key,
                          const std::vector<xmlrpc_c::value>& args);

} // namespace pl::sim
