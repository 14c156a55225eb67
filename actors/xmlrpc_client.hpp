#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <xmlrpc-c/base.hpp>

namespace pl {

/// Configures an `xmlrpc_client`.
struct client_options {
  /// Names the endpoint: `https://host[:port][/path]` or `http://...`; the path defaults to `/`.
  std::string url;
  /// Names a PEM file of trusted CA certificates; empty means the system trust store.
  std::string ca_file;
  /// Checks the server's certificate chain and host name (HTTPS only). Turn off only for tests.
  bool verify = true;
  /// Bounds the TCP connect plus the TLS handshake.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(15)};
  /// Bounds sending one request and, separately, reading its whole response.
  std::chrono::milliseconds io_timeout{std::chrono::seconds(120)};
  /// Bounds a response body; a larger one is refused (transport error) and the connection closed.
  std::size_t max_response_bytes = 64 << 20;
  std::string user_agent = "planetlab-xmlrpc-client/0.1";
};

/// Holds the outcome of one call: a value, an XML-RPC fault or a transport error.
struct rpc_result {
  enum class kind { value, fault, transport_error };

  kind outcome = kind::transport_error;
  /// Holds the result when `outcome == kind::value`.
  xmlrpc_c::value value;
  /// Hold the fault when `outcome == kind::fault`.
  int fault_code = 0;
  std::string fault_string;
  /// Says what failed when `outcome == kind::transport_error` (connect, TLS, HTTP, limits, XML).
  std::string error;

  rpc_result() = default;
  rpc_result(const rpc_result&) = default;
  /// Assigns even over a result holding a value (an `xmlrpc_c::value` itself refuses that).
  rpc_result& operator=(const rpc_result& other);
  ~rpc_result() = default;

  bool ok() const { return outcome == kind::value; }
  bool is_fault() const { return outcome == kind::fault; }
  bool is_transport_error() const { return outcome == kind::transport_error; }

  static rpc_result success(xmlrpc_c::value v);
  static rpc_result fault(int code, std::string text);
  static rpc_result failure(std::string what);
};

/// Splits an http(s) URL; fills `error` and returns nothing when it is not one.
struct endpoint_url {
  bool tls = true;
  std::string host;   ///< without brackets for IPv6 literals
  std::string port;   ///< explicit or the scheme's default
  std::string target; ///< path and query, at least `/`
};
std::optional<endpoint_url> parse_endpoint_url(std::string_view url, std::string* error);

/// Calls XML-RPC methods over HTTP/1.1 or HTTPS, reusing one keep-alive connection.
///
/// Blocking: each `call` returns when the answer is there, a limit is hit or the connection
/// fails. HTTPS verifies the certificate against `ca_file` (or the system store) and the URL's host
/// name (SNI is sent for names). A connection the server closed while idle is noticed before the
/// request is sent, or, if the close races the request, the call is sent once more on a fresh
/// connection (only when no byte of an answer arrived, as Python's xmlrpc.client does).
///
/// Values are encoded by xmlrpc-c in its i8 dialect (`<i8>`, `<nil/>`), which PLCAPI and Python's
/// `allow_none` clients understand; responses may use `<nil/>`, `<ex:nil/>`, `<i8>`, `<ex:i8>`.
///
/// Thread-compatible: use one client per thread. No exception escapes `call`.
///
/// ```cpp
/// pl::xmlrpc_client rpc{{.url = "https://plc.example.org/PLCAPI/", .ca_file = "plc.crt"}};
/// auto r = rpc.call("system.listMethods", {});
/// if (r.is_fault()) ... r.fault_code, r.fault_string
/// ```
class xmlrpc_client {
public:
  explicit xmlrpc_client(client_options options);
  ~xmlrpc_client();
  xmlrpc_client(const xmlrpc_client&) = delete;
  xmlrpc_client& operator=(const xmlrpc_client&) = delete;

  /// Sends `method(params...)` and returns its value, its fault or what went wrong on the way.
  rpc_result call(const std::string& method, const std::vector<xmlrpc_c::value>& params);

  /// Closes the connection (the next call opens a new one).
  void close();

  /// Counts the connections this client has opened (successful connects, TLS handshake included).
  std::size_t connections_opened() const;

  const client_options& options() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace pl
