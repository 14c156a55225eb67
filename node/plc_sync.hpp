#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "node/node_manager.hpp"

// How a node reaches PLC over XML-RPC (issue #6 point 4): its identity from
// plnode.txt (GenerateNodeConfFile) and GetSlivers pulled over HTTPS with
// PLCAPI node authentication (actors/node_hmac.hpp), directly or through a
// node session.

namespace pl::node {

/// Holds what a node manager takes from plnode.txt.
struct node_identity {
  std::int32_t node_id = 0;
  /// NODE_KEY: the secret PLC checks the hmac and push proofs with.
  std::string node_key;
  /// HOST_NAME.DOMAIN_NAME (PLC's hostname for the node).
  std::string hostname;
  /// NET_DEVICE (the primary interface's MAC), when given.
  std::string net_device;
};

/// Parses plnode.txt: `NAME="value"` lines (shell syntax as
/// GenerateNodeConfFile writes it: double or single quotes or none;
/// comments and blank lines ignored). Errors (`errc::invalid_argument`,
/// naming the line): a line that is not an assignment, NODE_ID missing or
/// not a positive integer, NODE_KEY missing or empty, HOST_NAME missing.
/// Messages start with `source` (the file name).
caf::expected<node_identity> parse_plnode(std::string_view text,
                                          std::string_view source = "plnode.txt");

/// Reads and parses the file `path` (errors name the file).
caf::expected<node_identity> load_plnode(const std::filesystem::path& path);

/// Says how GetSlivers authenticates.
enum class plc_auth : std::uint8_t {
  /// Every call carries {AuthMethod: "hmac", node_id, value}.
  hmac,
  /// A node session from GetSession (itself called with hmac), renewed when
  /// PLC refuses it, as node manager 1.5 did.
  session,
};

/// Configures `make_get_slivers_fetch`.
struct plc_sync_options {
  /// PLCAPI's URL, e.g. `https://plc.example.org/PLCAPI/`.
  std::string url;
  /// PEM file of the CA (or PLC's self-signed certificate); empty: the
  /// system's trust store.
  std::string ca_file;
  node_identity node;
  plc_auth auth = plc_auth::session;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(15)};
  /// node manager 1.5 used half its period.
  std::chrono::milliseconds io_timeout{std::chrono::seconds(300)};
};

/// Returns a fetch for the node manager's poller: GetSlivers() (the node's
/// own) parsed with `parse_get_slivers`. Errors: `errc::not_connected` when
/// PLC cannot be reached (transport), `errc::permission_denied` for fault
/// 103 (authentication), `errc::invalid_argument` for other faults and
/// malformed replies. The fetch keeps one keep-alive connection and is safe
/// to call from any one thread at a time (calls are serialised).
fetch_fn make_get_slivers_fetch(plc_sync_options options);

/// Configures `http_get`.
struct http_get_options {
  /// PEM file of trusted CAs for HTTPS; empty: the system's trust store.
  std::string ca_file;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  /// Bounds the body; a larger one is an error.
  std::size_t max_body_bytes = 16 << 20;
};

/// Fetches `url` (`https://` verifying the certificate and host name, or
/// `http://`) with one GET and returns the body of a 200 answer. Errors
/// (`errc::not_connected`): bad URL, connect, TLS, timeout, another status
/// (named), a body over the limit. Blocking; conf files come this way
/// (`conf_file_hooks::fetch`).
caf::expected<std::string> http_get(const std::string& url, const http_get_options& options = {});

} // namespace pl::node
