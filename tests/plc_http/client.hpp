#pragma once

// A small blocking HTTP(S) client for the plc.http tests. Every operation runs asynchronously on
// the client's own io_context and is bounded by `operation_timeout`, so a server bug shows up as a
// failed check, not as a hung test.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace pl::plc::http::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using error_code = boost::beast::error_code;
using response = bhttp::response<bhttp::string_body>;
using request = bhttp::request<bhttp::string_body>;

/// Bounds every client operation.
inline constexpr auto operation_timeout = std::chrono::seconds(20);

/// Builds an HTTP/1.1 request with `Host` and, when there is a body, `Content-Length`.
inline request make_request(bhttp::verb method, std::string_view target, std::string body = {},
                            std::string_view content_type = {}) {
  request req{method, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  if (!content_type.empty())
    req.set(bhttp::field::content_type, content_type);
  req.body() = std::move(body);
  if (method == bhttp::verb::post || !req.body().empty())
    req.prepare_payload();
  return req;
}

/// Builds an XML-RPC POST to /PLCAPI/.
inline request make_post(std::string body, std::string_view content_type = "text/xml") {
  return make_request(bhttp::verb::post, "/PLCAPI/", std::move(body), content_type);
}

/// Talks HTTP/1.1 over one connection, plain or TLS (certificate not verified: tests only).
class client {
public:
  client(std::uint16_t port, bool tls)
      : tls_{tls}
      , ctx_{net::ssl::context::tls_client} {
    ctx_.set_verify_mode(net::ssl::verify_none);
    stream_.emplace(ioc_, ctx_);
    net::ip::tcp::endpoint server{net::ip::make_address("127.0.0.1"), port};
    auto ec = run([&](auto done) { lowest().async_connect(server, done); });
    if (ec)
      throw std::runtime_error("test client: cannot connect: " + ec.message());
    if (tls_) {
      ec = run([&](auto done) { stream_->async_handshake(net::ssl::stream_base::client, done); });
      if (ec)
        throw std::runtime_error("test client: TLS handshake failed: " + ec.message());
    }
  }

  /// Sends a request and reads its answer; throws if either fails.
  response request(const test::request& req) {
    if (auto ec = write(req))
      throw std::runtime_error("test client: write failed: " + ec.message());
    auto res = read_response(req.method() == bhttp::verb::head);
    if (!res)
      throw std::runtime_error("test client: read failed: " + last_error.message());
    return std::move(*res);
  }

  /// Sends a request without reading anything.
  error_code write(const test::request& req) {
    return run([&](auto done) {
      if (tls_)
        bhttp::async_write(*stream_, req, done);
      else
        bhttp::async_write(lowest(), req, done);
    });
  }

  /// Sends bytes as they are (malformed or partial requests).
  error_code write_raw(std::string_view bytes) {
    return run([&](auto done) {
      if (tls_)
        net::async_write(*stream_, net::buffer(bytes), done);
      else
        net::async_write(lowest(), net::buffer(bytes), done);
    });
  }

  /// Reads one response (a 1xx counts); returns nothing and sets `last_error` on failure.
  std::optional<response> read_response(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    parser.skip(head);
    last_error = run([&](auto done) {
      if (tls_)
        bhttp::async_read(*stream_, buffer_, parser, done);
      else
        bhttp::async_read(lowest(), buffer_, parser, done);
    });
    if (last_error)
      return std::nullopt;
    return parser.release();
  }

  /// Returns whether the server closed the connection (the next read ends without data).
  bool closed_by_server() {
    char byte;
    last_error = run([&](auto done) {
      if (tls_)
        stream_->async_read_some(net::buffer(&byte, 1), done);
      else
        lowest().async_read_some(net::buffer(&byte, 1), done);
    });
    return buffer_.size() == 0 && last_error && last_error != beast::error::timeout;
  }

  error_code last_error;

private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(*stream_); }

  /// Starts one asynchronous operation and runs the io_context until it completes or times out.
  template <class Start>
  error_code run(Start start) {
    error_code result = net::error::would_block;
    lowest().expires_after(operation_timeout);
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  bool tls_;
  net::io_context ioc_;
  net::ssl::context ctx_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
};

} // namespace pl::plc::http::test
