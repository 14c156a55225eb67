#pragma once

// The push link and the ticket actors wired to PLC's database, as plcd runs
// them: the node registry (nodes looked up in `nodes`), the gateway nodes
// reach, the ticket office, and the slice directory, all fed by committed
// changes the database announces on `slice_channel` (migration 0240's
// triggers; plc/store/listener.hpp hears them).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "plc/push/node_registry.hpp"
#include "plc/push/slice_directory.hpp"
#include "plc/push/ticket_office.hpp"

namespace pl {
class clock;
}

namespace pl::plc::store {
class connection_pool;
}

namespace pl::plc::push {

/// The channel migration 0240's triggers notify: the payload is a slice id.
inline constexpr const char* slice_channel = "plc_slice_changed";

/// Reads node `node_id`'s hostname and node key from the database.
node_lookup database_node_lookup(store::connection_pool& pool);

/// Reads one slice as the push link needs it: live (not deleted, not
/// expired, instantiated), its nodes (every live node for system, delegated
/// and nm-controller slices) and each node's sliver as GetSlivers hands it
/// out (plc/api/slivers.hpp). A sliver whose tags do not parse is left out
/// (with a log line); GetSlivers still lists it.
std::optional<desired_slice> load_desired_slice(store::connection_pool& pool,
                                                const pl::clock& clock, std::int32_t slice_id);

/// Tells whether slice `slice_id` is live at the clock's time.
bool slice_is_live(store::connection_pool& pool, const pl::clock& clock, std::int32_t slice_id);

/// Checks the push link's TLS files as CAF's OpenSSL module will use them
/// (certificate chain, matching private key, CA file); throws
/// std::runtime_error naming the file and OpenSSL's reason. CAF itself only
/// finds out at the first connection.
void check_tls_files(const std::string& cert, const std::string& key, const std::string& cafile);

struct service_config {
  store::connection_pool* pool = nullptr;
  /// A libpq connection string for the listener's own connection.
  std::string conninfo;
  /// PLC's clock; must outlive the service.
  const pl::clock* clock = nullptr;
  /// Runs the slice directory (one slice actor per live slice, pushing to
  /// connected nodes). Off: only the registry and the tickets.
  bool slices = true;
  /// Spawns the blocking actors detached (false: on the test coordinator).
  bool detached = true;
  std::chrono::milliseconds listener_backoff{5000};
};

/// Owns the actors and the listener; stopping (the destructor) ends the
/// listener, then the actors.
class service {
public:
  /// Starts everything; throws store::db_error when the listener cannot
  /// connect.
  service(caf::actor_system& sys, service_config config);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  node_registry_actor registry() const;
  push_gateway_actor gateway() const;
  ticket_office_actor tickets() const;
  /// The slice directory, or null when `slices` is off.
  slice_directory_actor directory() const;

  /// Publishes the gateway on `address`:`port` (0: any free port) through
  /// CAF's middleman, or with `tls` through CAF's OpenSSL module (the actor
  /// system must have loaded it with certificate, key and CA file). Returns
  /// the port; throws std::runtime_error saying why it could not.
  std::uint16_t publish(const std::string& address, std::uint16_t port, bool tls);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace pl::plc::push
