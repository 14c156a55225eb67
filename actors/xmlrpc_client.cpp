#include "actors/xmlrpc_client.hpp"

#include <poll.h>

#include <exception>
#include <mutex>
#include <new>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <xmlrpc-c/base.h>
#include <xmlrpc-c/girerr.hpp>
#include <xmlrpc-c/xml.hpp>

namespace pl {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

bool is_ip_literal(const std::string& host) {
  error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

/// Returns whether an error means the peer had closed the connection before answering.
bool is_peer_close(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == ssl::error::stream_truncated;
}

} // namespace

rpc_result& rpc_result::operator=(const rpc_result& other) {
  if (this == &other)
    return *this;
  outcome = other.outcome;
  // xmlrpc_c::value cannot be assigned once it holds something; copying only shares a reference.
  value.~value();
  new (&value) xmlrpc_c::value(other.value);
  fault_code = other.fault_code;
  fault_string = other.fault_string;
  error = other.error;
  return *this;
}

rpc_result rpc_result::success(xmlrpc_c::value v) {
  rpc_result r;
  r.outcome = kind::value;
  r.value = std::move(v);
  return r;
}

rpc_result rpc_result::fault(int code, std::string text) {
  rpc_result r;
  r.outcome = kind::fault;
  r.fault_code = code;
  r.fault_string = std::move(text);
  return r;
}

rpc_result rpc_result::failure(std::string what) {
  rpc_result r;
  r.outcome = kind::transport_error;
  r.error = std::move(what);
  return r;
}

std::optional<endpoint_url> parse_endpoint_url(std::string_view url, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<endpoint_url> {
    if (error)
      *error = "invalid URL '" + std::string{url} + "': " + why;
    return std::nullopt;
  };
  endpoint_url out;
  if (url.starts_with("https://")) {
    out.tls = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    out.tls = false;
    url.remove_prefix(7);
  } else {
    return fail("expected https:// or http://");
  }
  auto slash = url.find_first_of("/?");
  auto authority = url.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string{url.substr(slash)};
  if (out.target.front() == '?')
    out.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos)
    return fail("user information in the URL is not supported");
  std::string_view port;
  if (authority.starts_with("[")) {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail("unterminated IPv6 address");
    out.host = std::string{authority.substr(1, close - 1)};
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return fail("unexpected text after the IPv6 address");
      port = rest.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos)
      port = authority.substr(colon + 1);
  }
  if (out.host.empty())
    return fail("no host");
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
  } else {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoul(std::string{port}) == 0 || std::stoul(std::string{port}) > 65535)
      return fail("bad port '" + std::string{port} + "'");
    out.port = std::string{port};
  }
  return out;
}

struct xmlrpc_client::impl {
  explicit impl(client_options opts)
      : options{std::move(opts)}
      , tls_ctx{ssl::context::tls_client} {
    std::string why;
    if (auto parsed = parse_endpoint_url(options.url, &why))
      url = std::move(*parsed);
    else
      setup_error = why;
    if (setup_error.empty() && url.tls)
      setup_tls();
  }

  void setup_tls() {
    tls_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (!options.verify) {
      tls_ctx.set_verify_mode(ssl::verify_none);
      return;
    }
    tls_ctx.set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (options.ca_file.empty()) {
      tls_ctx.set_default_verify_paths(ec);
      if (ec)
        setup_error = "cannot load the system's trusted certificates: " + ec.message();
    } else {
      tls_ctx.load_verify_file(options.ca_file, ec);
      if (ec)
        setup_error = "cannot load CA file '" + options.ca_file + "': " + ec.message();
    }
  }

  /// Applies `f` to the open stream (TLS or plain).
  template <class F>
  decltype(auto) with_stream(F&& f) {
    if (tls_stream)
      return f(*tls_stream);
    return f(*plain_stream);
  }

  beast::tcp_stream& lowest() {
    if (tls_stream)
      return beast::get_lowest_layer(*tls_stream);
    return *plain_stream;
  }

  bool connected() const { return tls_stream.has_value() || plain_stream.has_value(); }

  void disconnect() {
    if (tls_stream || plain_stream) {
      error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
      lowest().socket().close(ec);
    }
    tls_stream.reset();
    plain_stream.reset();
    buffer.clear();
  }

  /// Starts one asynchronous operation and runs the io_context until it completes or times out.
  template <class Start>
  error_code run(std::chrono::milliseconds timeout, Start start) {
    error_code result = net::error::would_block;
    lowest().expires_after(timeout);
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  /// Returns whether an idle connection has something to read (the server's close, most likely).
  bool stale() {
    pollfd pfd{};
    pfd.fd = lowest().socket().native_handle();
    pfd.events = POLLIN | POLLRDHUP;
    int n = ::poll(&pfd, 1, 0);
    return n != 0; // readable, hung up, error: none of it belongs to an idle connection
  }

  std::string where() const { return url.host + ":" + url.port; }

  /// Opens a connection; returns an empty string or what failed.
  std::string connect() {
    disconnect();
    tcp::resolver resolver{ioc};
    error_code ec;
    auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec)
      return "cannot resolve " + url.host + ": " + ec.message();
    if (url.tls) {
      tls_stream.emplace(ioc, tls_ctx);
      if (!is_ip_literal(url.host) &&
          SSL_set_tlsext_host_name(tls_stream->native_handle(), url.host.c_str()) != 1)
        return "cannot set TLS server name " + url.host;
      if (options.verify)
        tls_stream->set_verify_callback(ssl::host_name_verification(url.host));
    } else {
      plain_stream.emplace(ioc);
    }
    ec = run(options.connect_timeout,
             [&](auto done) { lowest().async_connect(endpoints, std::move(done)); });
    if (ec) {
      disconnect();
      return "cannot connect to " + where() + ": " + describe(ec);
    }
    error_code ignored;
    lowest().socket().set_option(tcp::no_delay{true}, ignored);
    if (url.tls) {
      ec = run(options.connect_timeout, [&](auto done) {
        tls_stream->async_handshake(ssl::stream_base::client, std::move(done));
      });
      if (ec) {
        std::string why = describe(ec);
        long verify = SSL_get_verify_result(tls_stream->native_handle());
        if (verify != X509_V_OK)
          why += " (" + std::string{X509_verify_cert_error_string(verify)} + ")";
        disconnect();
        return "TLS handshake with " + where() + " failed: " + why;
      }
    }
    ++opened;
    return {};
  }

  std::string describe(const error_code& ec) const {
    if (ec == beast::error::timeout)
      return "timed out";
    return ec.message();
  }

  enum class step { done, retry };

  /// Sends one request on the current connection and reads its answer into `result`.
  step exchange(const bhttp::request<bhttp::string_body>& req, bool reused, rpc_result& result) {
    auto ec = run(options.io_timeout, [&](auto done) {
      with_stream([&](auto& s) { bhttp::async_write(s, req, std::move(done)); });
    });
    if (ec) {
      disconnect();
      if (reused && is_peer_close(ec))
        return step::retry;
      result = rpc_result::failure("cannot send the request to " + where() + ": " + describe(ec));
      return step::done;
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_response_bytes);
    // Beast 1.74 does not hold a response's Content-Length against the body limit (it does for
    // chunked and close-delimited bodies), so the header is read first and checked here.
    ec = run(options.io_timeout, [&](auto done) {
      with_stream([&](auto& s) { bhttp::async_read_header(s, buffer, parser, std::move(done)); });
    });
    if (!ec && parser.content_length() && *parser.content_length() > options.max_response_bytes)
      ec = bhttp::error::body_limit;
    if (!ec && !parser.is_done()) {
      ec = run(options.io_timeout, [&](auto done) {
        with_stream([&](auto& s) { bhttp::async_read(s, buffer, parser, std::move(done)); });
      });
    }
    if (ec) {
      bool nothing = !parser.got_some();
      disconnect();
      if (reused && nothing && is_peer_close(ec))
        return step::retry;
      if (ec == bhttp::error::body_limit)
        result = rpc_result::failure("response from " + where() + " exceeds the limit of " +
                                     std::to_string(options.max_response_bytes) + " bytes");
      else
        result =
            rpc_result::failure("cannot read the response from " + where() + ": " + describe(ec));
      return step::done;
    }
    auto res = parser.release();
    if (!res.keep_alive())
      disconnect();
    if (res.result() != bhttp::status::ok) {
      result = rpc_result::failure("HTTP " + std::to_string(res.result_int()) + " " +
                                   std::string{res.reason()} + " from " + where());
      return step::done;
    }
    try {
      xmlrpc_c::rpcOutcome outcome;
      xmlrpc_c::xml::parseResponse(res.body(), &outcome);
      if (outcome.succeeded()) {
        result = rpc_result::success(outcome.getResult());
      } else {
        auto f = outcome.getFault();
        result = rpc_result::fault(static_cast<int>(f.getCode()), f.getDescription());
      }
    } catch (const std::exception& e) {
      result = rpc_result::failure("malformed XML-RPC response from " + where() + ": " + e.what());
    }
    return step::done;
  }

  rpc_result call(const std::string& method, const std::vector<xmlrpc_c::value>& params) {
    if (!setup_error.empty())
      return rpc_result::failure(setup_error);
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, url.target, 11};
    try {
      xmlrpc_c::paramList list;
      for (const auto& p : params)
        list.add(p);
      xmlrpc_c::xml::generateCall(method, list, &req.body());
    } catch (const std::exception& e) {
      return rpc_result::failure("cannot encode the call to " + method + ": " + e.what());
    }
    bool default_port = url.port == (url.tls ? "443" : "80");
    std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    req.set(bhttp::field::host, default_port ? host : host + ":" + url.port);
    req.set(bhttp::field::user_agent, options.user_agent);
    req.set(bhttp::field::content_type, "text/xml");
    req.keep_alive(true);
    req.prepare_payload();

    rpc_result result;
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = connected();
      if (reused && stale()) {
        disconnect();
        reused = false;
      }
      if (!reused) {
        if (auto why = connect(); !why.empty())
          return rpc_result::failure(std::move(why));
      }
      if (exchange(req, reused, result) == step::done)
        return result;
    }
    // Not reached: the second attempt runs on a fresh connection, which never asks for a retry.
    return rpc_result::failure("connection to " + where() + " closed twice");
  }

  client_options options;
  endpoint_url url;
  std::string setup_error;
  net::io_context ioc;
  ssl::context tls_ctx;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  std::optional<beast::tcp_stream> plain_stream;
  beast::flat_buffer buffer;
  std::size_t opened = 0;
};

xmlrpc_client::xmlrpc_client(client_options options)
    : impl_{std::make_unique<impl>(std::move(options))} {
  // xmlrpc-c refuses to parse XML beyond a process-wide limit (512 KiB by
  // default), below which large replies such as GetNodes would fail; raise it
  // to the largest response this client accepts. Only ever raised, never lowered.
  static std::mutex limit_mutex;
  std::lock_guard<std::mutex> guard{limit_mutex};
  if (xmlrpc_limit_get(XMLRPC_XML_SIZE_LIMIT_ID) < impl_->options.max_response_bytes)
    xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, impl_->options.max_response_bytes);
}

xmlrpc_client::~xmlrpc_client() = default;

rpc_result xmlrpc_client::call(const std::string& method,
                               const std::vector<xmlrpc_c::value>& params) {
  try {
    return impl_->call(method, params);
  } catch (const std::exception& e) {
    impl_->disconnect();
    return rpc_result::failure(std::string{"XML-RPC client error: "} + e.what());
  }
}

void xmlrpc_client::close() {
  impl_->disconnect();
}

std::size_t xmlrpc_client::connections_opened() const {
  return impl_->opened;
}

const client_options& xmlrpc_client::options() const {
  return impl_->options;
}

} // namespace pl
