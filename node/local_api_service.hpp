#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/clock.hpp"
#include "actors/node_manager_actor.hpp"
#include "actors/outcome.hpp"
#include "actors/ticket_keys.hpp"
#include "node/api_server.hpp"
#include "node/local_api.hpp"
#include "node/ticket_desk.hpp"

// One call for nodemgr: the local API (methods, tickets, transport) in front
// of a running `node_manager` actor.
//
//   pl::node::local_api_config cfg;
//   cfg.node_id = 7;
//   cfg.ticket_keys.add(*pl::verify_key::load("/etc/planetlab/ticket.pub"));
//   cfg.state_dir = "/var/lib/planetlab/nodemgr";
//   auto api = pl::node::start_local_api(sys, nm, cfg, clock);
//   if (!api) die(api.error());
//   (*api)->add_sliver("pl_x");   // before starting pl_x: bind-mount the returned path
//   (*api)->tickets().revoke_slice("pl_x", t, expires);   // when PLC revokes pl_x

namespace pl::node {

/// Configures the whole local API.
struct local_api_config {
  /// This node's id (tickets for other nodes are refused).
  std::int32_t node_id = 0;
  /// The transport: TCP port (812; 0 for any), run directory of the slivers'
  /// sockets, threads, limits, peer check.
  api_server_config server;
  /// PLC's public ticket key(s) installed on the node; without one every
  /// ticket is refused (fault 102).
  ticket_keyring ticket_keys;
  /// Clock-skew allowance for tickets, seconds.
  std::int64_t ticket_skew = 300;
  /// The most redeemed nonces and revocations kept at once.
  std::size_t ticket_capacity = 100'000;
  /// Holds `tickets.state` (redeemed nonces, revocations); empty keeps them
  /// in memory only (tests).
  std::filesystem::path state_dir;
  /// Slices with root's rights on every sliver (NM 2.0's `<prefix>_sfacm`).
  std::vector<std::string> admin_slices;
  /// Bounds each request to the node manager actor.
  std::chrono::milliseconds call_timeout{std::chrono::seconds(30)};
  /// GetXIDs' account lookup; unset reads the passwd database.
  std::function<std::optional<std::int64_t>(const std::string&)> account_uid;
};

/// Runs the local API: a `ticket_desk`, the methods, and the server.
class local_api_service {
public:
  local_api_service(const local_api_service&) = delete;
  local_api_service& operator=(const local_api_service&) = delete;
  ~local_api_service();

  /// See `api_server::add_sliver`: call it for every sliver before it starts
  /// (and again after a restart); the path goes into the sliver by bind mount.
  outcome<std::filesystem::path> add_sliver(const std::string& name) {
    return server_->add_sliver(name);
  }
  /// See `api_server::remove_sliver`: call it when the sliver is destroyed.
  void remove_sliver(const std::string& name) { server_->remove_sliver(name); }

  /// See `api_server::sync_slivers`: one socket for each of `names`, no others.
  std::vector<std::pair<std::string, std::string>>
  sync_slivers(const std::vector<std::string>& names) {
    return server_->sync_slivers(names);
  }

  /// Returns the TCP port of the root context (0 when TCP is off).
  std::uint16_t tcp_port() const { return server_->tcp_port(); }

  /// Returns the ticket desk, e.g. to record PLC's revocations.
  ticket_desk& tickets() { return *desk_; }
  api_server& server() { return *server_; }
  const local_api& api() const { return *api_; }

  /// Stops serving (idempotent); the destructor does it too.
  void stop() { server_->stop(); }

private:
  friend outcome<std::unique_ptr<local_api_service>> start_local_api(caf::actor_system& sys,
                                                                     node_manager_actor nm,
                                                                     local_api_config cfg,
                                                                     const clock& clk);
  local_api_service() = default;

  std::unique_ptr<ticket_desk> desk_;
  std::unique_ptr<local_api> api_;
  std::unique_ptr<api_server> server_;
};

/// Starts the local API in front of `nm`: opens the ticket state under
/// `cfg.state_dir`, raises xmlrpc-c's XML size limit to the body limit, and
/// listens. Fails with the reason (state file unreadable, port taken, ...).
/// `sys` and `clk` must outlive the service.
outcome<std::unique_ptr<local_api_service>> start_local_api(caf::actor_system& sys,
                                                            node_manager_actor nm,
                                                            local_api_config cfg, const clock& clk);

} // namespace pl::node
