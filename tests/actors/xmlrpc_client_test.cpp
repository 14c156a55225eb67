// pl::xmlrpc_client against the real PLC HTTP server (plain and TLS) and, for the retry rule,
// against a scripted HTTP peer.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/registry.hpp>
#include <xmlrpc-c/xml.hpp>

#include "actors/xmlrpc_client.hpp"
#include "plc/http/server.hpp"
#include "tests/plc_http/server_fixture.hpp"
#include "tests/plc_http/tls_files.hpp"

using pl::client_options;
using pl::rpc_result;
using pl::xmlrpc_client;
using pl::plc::http::request_info;
using pl::plc::http::test::running_server;
using pl::plc::http::test::shared_tls_files;
using pl::plc::http::test::test_config;

namespace {

/// Returns its parameters: one as itself, several as an array.
class echo_method : public xmlrpc_c::method {
public:
  void execute(const xmlrpc_c::paramList& params, xmlrpc_c::value* result) override {
    if (params.size() == 1) {
      *result = params[0];
      return;
    }
    std::vector<xmlrpc_c::value> all;
    for (unsigned i = 0; i < params.size(); ++i)
      all.push_back(params[i]);
    *result = xmlrpc_c::value_array(all);
  }
};

/// Always fails with fault 42.
class fail_method : public xmlrpc_c::method {
public:
  void execute(const xmlrpc_c::paramList&, xmlrpc_c::value*) override {
    throw xmlrpc_c::fault("boom: it failed", static_cast<xmlrpc_c::fault::code_t>(42));
  }
};

/// Returns a string of as many bytes as asked.
class big_method : public xmlrpc_c::method {
public:
  void execute(const xmlrpc_c::paramList& params, xmlrpc_c::value* result) override {
    *result = xmlrpc_c::value_string(std::string(params.getInt(0, 0), 'x'));
  }
};

/// An XML-RPC service for the server: a registry plus the peer ports of the calls it saw (one
/// port per TCP connection).
class service {
public:
  service() {
    registry_.addMethod("echo", xmlrpc_c::methodPtr{new echo_method});
    registry_.addMethod("fail", xmlrpc_c::methodPtr{new fail_method});
    registry_.addMethod("big", xmlrpc_c::methodPtr{new big_method});
  }

  pl::plc::http::rpc_handler handler() {
    return [this](std::string_view body, const request_info& info) {
      {
        std::lock_guard guard{mutex_};
        ports_.insert(info.peer_port);
        ++calls_;
      }
      std::string response;
      registry_.processCall(std::string{body}, &response);
      return response;
    };
  }

  std::size_t connections() {
    std::lock_guard guard{mutex_};
    return ports_.size();
  }

  std::size_t calls() {
    std::lock_guard guard{mutex_};
    return calls_;
  }

private:
  xmlrpc_c::registry registry_;
  std::mutex mutex_;
  std::set<std::uint16_t> ports_;
  std::size_t calls_ = 0;
};

std::string url_for(bool tls, std::uint16_t port, const std::string& host = "") {
  std::string h = host.empty() ? (tls ? "localhost" : "127.0.0.1") : host;
  return std::string{tls ? "https://" : "http://"} + h + ":" + std::to_string(port) + "/PLCAPI/";
}

client_options options_for(bool tls, std::uint16_t port) {
  client_options opts;
  opts.url = url_for(tls, port);
  if (tls)
    opts.ca_file = shared_tls_files().cert();
  opts.connect_timeout = std::chrono::seconds(20);
  opts.io_timeout = std::chrono::seconds(20);
  return opts;
}

std::string describe(const rpc_result& r) {
  switch (r.outcome) {
  case rpc_result::kind::value:
    return "value";
  case rpc_result::kind::fault:
    return "fault " + std::to_string(r.fault_code) + ": " + r.fault_string;
  case rpc_result::kind::transport_error:
    return "transport error: " + r.error;
  }
  return "?";
}

} // namespace

TEST_CASE("a call returns the method's value", "[xmlrpc_client]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  service svc;
  running_server srv{test_config(tls), svc.handler()};
  xmlrpc_client rpc{options_for(tls, srv.port())};

  auto r = rpc.call("echo", {xmlrpc_c::value_string("hello")});
  INFO(describe(r));
  REQUIRE(r.ok());
  CHECK(xmlrpc_c::value_string(r.value).cvalue() == "hello");

  std::map<std::string, xmlrpc_c::value> fields{{"a", xmlrpc_c::value_int(1)},
                                                {"b", xmlrpc_c::value_boolean(true)}};
  r = rpc.call("echo", {xmlrpc_c::value_struct(fields)});
  REQUIRE(r.ok());
  auto back = xmlrpc_c::value_struct(r.value).cvalue();
  CHECK(xmlrpc_c::value_int(back.at("a")).cvalue() == 1);
  CHECK(xmlrpc_c::value_boolean(back.at("b")).cvalue());
}

TEST_CASE("nil and i8 round-trip", "[xmlrpc_client]") {
  service svc;
  running_server srv{test_config(false), svc.handler()};
  xmlrpc_client rpc{options_for(false, srv.port())};

  auto r = rpc.call("echo", {xmlrpc_c::value_nil()});
  INFO(describe(r));
  REQUIRE(r.ok());
  CHECK(r.value.type() == xmlrpc_c::value::TYPE_NIL);

  const xmlrpc_int64 big = (xmlrpc_int64{1} << 40) + 7;
  r = rpc.call("echo", {xmlrpc_c::value_i8(big), xmlrpc_c::value_nil(), xmlrpc_c::value_int(-3)});
  REQUIRE(r.ok());
  auto items = xmlrpc_c::value_array(r.value).vectorValueValue();
  REQUIRE(items.size() == 3);
  REQUIRE(items[0].type() == xmlrpc_c::value::TYPE_I8);
  CHECK(xmlrpc_c::value_i8(items[0]).cvalue() == big);
  CHECK(items[1].type() == xmlrpc_c::value::TYPE_NIL);
  CHECK(xmlrpc_c::value_int(items[2]).cvalue() == -3);
}

TEST_CASE("a fault comes back as code and string", "[xmlrpc_client]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  service svc;
  running_server srv{test_config(tls), svc.handler()};
  xmlrpc_client rpc{options_for(tls, srv.port())};

  auto r = rpc.call("fail", {});
  INFO(describe(r));
  REQUIRE(r.is_fault());
  CHECK(r.fault_code == 42);
  CHECK(r.fault_string == "boom: it failed");

  r = rpc.call("no.such.method", {});
  REQUIRE(r.is_fault());
  CHECK(r.fault_code == xmlrpc_c::fault::CODE_NO_SUCH_METHOD);

  // A fault does not cost the connection.
  CHECK(rpc.call("echo", {xmlrpc_c::value_int(1)}).ok());
  CHECK(svc.connections() == 1);
}

TEST_CASE("calls reuse one keep-alive connection", "[xmlrpc_client]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  service svc;
  running_server srv{test_config(tls), svc.handler()};
  xmlrpc_client rpc{options_for(tls, srv.port())};

  for (int i = 0; i < 5; ++i) {
    auto r = rpc.call("echo", {xmlrpc_c::value_int(i)});
    INFO(describe(r));
    REQUIRE(r.ok());
    CHECK(xmlrpc_c::value_int(r.value).cvalue() == i);
  }
  CHECK(svc.calls() == 5);
  CHECK(svc.connections() == 1);
  CHECK(rpc.connections_opened() == 1);

  rpc.close();
  REQUIRE(rpc.call("echo", {xmlrpc_c::value_int(9)}).ok());
  CHECK(svc.connections() == 2);
  CHECK(rpc.connections_opened() == 2);
}

TEST_CASE("a connection the server closed while idle is replaced", "[xmlrpc_client]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  service first;
  auto config = test_config(tls);
  auto srv = std::make_unique<running_server>(config, first.handler());
  config.port = srv->port();
  xmlrpc_client rpc{options_for(tls, config.port)};
  REQUIRE(rpc.call("echo", {xmlrpc_c::value_int(1)}).ok());

  // Stopping closes idle keep-alive connections at once; a new server takes over the same port.
  srv.reset();
  service second;
  srv = std::make_unique<running_server>(config, second.handler());

  auto r = rpc.call("echo", {xmlrpc_c::value_int(2)});
  INFO(describe(r));
  REQUIRE(r.ok());
  CHECK(xmlrpc_c::value_int(r.value).cvalue() == 2);
  CHECK(rpc.connections_opened() == 2);
  CHECK(second.calls() == 1);
}

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::string echo_response_xml(int n) {
  std::string xml;
  xmlrpc_c::xml::generateResponse(xmlrpc_c::rpcOutcome{xmlrpc_c::value_int(n)}, &xml);
  return xml;
}

/// A scripted HTTP peer on 127.0.0.1, port 0: for each accepted connection, answers
/// `answers[i]` requests and then closes the connection as soon as the next request arrives.
class scripted_peer {
public:
  explicit scripted_peer(std::vector<int> answers)
      : acceptor_{ioc_, {net::ip::make_address("127.0.0.1"), 0}}
      , thread_{[this, answers] { serve(answers); }} {}

  /// Wakes a thread still waiting in accept (a test that failed early) with a connection of
  /// its own, then joins it.
  ~scripted_peer() {
    stopping_ = true;
    boost::system::error_code ec;
    net::ip::tcp::socket poke{ioc_};
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::size_t requests_seen() {
    std::lock_guard guard{mutex_};
    return requests_;
  }

private:
  void serve(std::vector<int> answers) {
    int counter = 0;
    for (int quota : answers) {
      boost::system::error_code ec;
      net::ip::tcp::socket socket{ioc_};
      acceptor_.accept(socket, ec);
      if (ec || stopping_)
        return;
      beast::flat_buffer buffer;
      for (int i = 0;; ++i) {
        bhttp::request<bhttp::string_body> req;
        bhttp::read(socket, buffer, req, ec);
        if (ec)
          break;
        {
          std::lock_guard guard{mutex_};
          ++requests_;
        }
        if (i == quota)
          break; // close without answering
        bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
        res.set(bhttp::field::content_type, "text/xml");
        res.body() = echo_response_xml(++counter);
        res.keep_alive(true);
        res.prepare_payload();
        bhttp::write(socket, res, ec);
        if (ec)
          break;
      }
      socket.close(ec);
    }
  }

  net::io_context ioc_;
  net::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::size_t requests_ = 0;
  std::thread thread_;
};

} // namespace

TEST_CASE("a request that meets a closing connection is sent once more", "[xmlrpc_client]") {
  // Connection 1 answers one call and closes on the second; connection 2 answers.
  scripted_peer peer{{1, 5}};
  xmlrpc_client rpc{options_for(false, peer.port())};
  auto r = rpc.call("echo", {});
  INFO(describe(r));
  REQUIRE(r.ok());
  CHECK(xmlrpc_c::value_int(r.value).cvalue() == 1);
  r = rpc.call("echo", {});
  INFO(describe(r));
  REQUIRE(r.ok());
  CHECK(xmlrpc_c::value_int(r.value).cvalue() == 2);
  CHECK(rpc.connections_opened() == 2);
  CHECK(peer.requests_seen() == 3);
}

TEST_CASE("a fresh connection closed without an answer is not retried", "[xmlrpc_client]") {
  scripted_peer peer{{0, 5}};
  xmlrpc_client rpc{options_for(false, peer.port())};
  auto r = rpc.call("echo", {});
  REQUIRE(r.is_transport_error());
  CHECK_THAT(r.error, Catch::Contains("cannot read the response"));
  CHECK(rpc.connections_opened() == 1);
  CHECK(peer.requests_seen() == 1);
  // The next call opens a new connection and works.
  r = rpc.call("echo", {});
  INFO(describe(r));
  CHECK(r.ok());
}

TEST_CASE("TLS checks the certificate and the host name", "[xmlrpc_client]") {
  service svc;
  running_server srv{test_config(true), svc.handler()};

  SECTION("the right CA succeeds") {
    xmlrpc_client rpc{options_for(true, srv.port())};
    auto r = rpc.call("echo", {xmlrpc_c::value_int(5)});
    INFO(describe(r));
    CHECK(r.ok());
  }
  SECTION("another CA fails with a clear error") {
    pl::plc::http::test::tls_files other;
    auto opts = options_for(true, srv.port());
    opts.ca_file = other.cert();
    xmlrpc_client rpc{opts};
    auto r = rpc.call("echo", {xmlrpc_c::value_int(5)});
    REQUIRE(r.is_transport_error());
    CHECK_THAT(r.error, Catch::Contains("TLS handshake with localhost:"));
    CHECK_THAT(r.error, Catch::Contains("certificate verify failed"));
    CHECK(svc.calls() == 0);
  }
  SECTION("a host name the certificate does not carry fails") {
    // The test certificate names only "localhost".
    auto opts = options_for(true, srv.port());
    opts.url = url_for(true, srv.port(), "127.0.0.1");
    xmlrpc_client rpc{opts};
    auto r = rpc.call("echo", {xmlrpc_c::value_int(5)});
    REQUIRE(r.is_transport_error());
    CHECK_THAT(r.error, Catch::Contains("TLS handshake"));
    CHECK(svc.calls() == 0);
  }
  SECTION("verify off accepts any certificate") {
    pl::plc::http::test::tls_files other;
    auto opts = options_for(true, srv.port());
    opts.ca_file = other.cert();
    opts.verify = false;
    xmlrpc_client rpc{opts};
    CHECK(rpc.call("echo", {xmlrpc_c::value_int(5)}).ok());
  }
  SECTION("a missing CA file is reported") {
    auto opts = options_for(true, srv.port());
    opts.ca_file = (shared_tls_files().dir() / "absent.pem").string();
    xmlrpc_client rpc{opts};
    auto r = rpc.call("echo", {});
    REQUIRE(r.is_transport_error());
    CHECK_THAT(r.error, Catch::Contains("cannot load CA file"));
  }
}

TEST_CASE("a response over the size limit is refused", "[xmlrpc_client]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  service svc;
  running_server srv{test_config(tls), svc.handler()};
  auto opts = options_for(tls, srv.port());
  opts.max_response_bytes = 4096;
  xmlrpc_client rpc{opts};

  auto r = rpc.call("big", {xmlrpc_c::value_int(1000)});
  INFO(describe(r));
  REQUIRE(r.ok());
  CHECK(xmlrpc_c::value_string(r.value).cvalue().size() == 1000);

  r = rpc.call("big", {xmlrpc_c::value_int(10000)});
  INFO(describe(r));
  REQUIRE(r.is_transport_error());
  CHECK_THAT(r.error, Catch::Contains("exceeds the limit of 4096 bytes"));

  // The connection was dropped; the client recovers on a new one.
  r = rpc.call("big", {xmlrpc_c::value_int(10)});
  CHECK(r.ok());
  CHECK(rpc.connections_opened() == 2);
}

TEST_CASE("a response beyond xmlrpc-c's default 512 KiB parse limit is read", "[xmlrpc_client]") {
  service svc;
  running_server srv{test_config(false), svc.handler()};
  xmlrpc_client rpc{options_for(false, srv.port())};
  auto r = rpc.call("big", {xmlrpc_c::value_int(2 << 20)});
  INFO(describe(r));
  REQUIRE(r.ok());
  CHECK(xmlrpc_c::value_string(r.value).cvalue().size() == std::size_t{2 << 20});
}

TEST_CASE("HTTP errors and bad endpoints are transport errors", "[xmlrpc_client]") {
  service svc;
  running_server srv{test_config(false), svc.handler()};

  SECTION("a wrong path") {
    auto opts = options_for(false, srv.port());
    opts.url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/nothing";
    xmlrpc_client rpc{opts};
    auto r = rpc.call("echo", {});
    REQUIRE(r.is_transport_error());
    CHECK_THAT(r.error, Catch::Contains("HTTP 404"));
  }
  SECTION("a refused connection") {
    // A bound socket that does not listen refuses connections.
    net::io_context ioc;
    net::ip::tcp::socket bound{ioc};
    bound.open(net::ip::tcp::v4());
    bound.bind({net::ip::make_address("127.0.0.1"), 0});
    xmlrpc_client rpc{options_for(false, bound.local_endpoint().port())};
    auto r = rpc.call("echo", {});
    REQUIRE(r.is_transport_error());
    CHECK_THAT(r.error, Catch::Contains("cannot connect to 127.0.0.1:"));
  }
  SECTION("a URL that is not http(s)") {
    client_options opts;
    opts.url = "ftp://example.org/";
    xmlrpc_client rpc{opts};
    auto r = rpc.call("echo", {});
    REQUIRE(r.is_transport_error());
    CHECK_THAT(r.error, Catch::Contains("expected https:// or http://"));
  }
}

TEST_CASE("URLs are split into scheme, host, port and target", "[xmlrpc_client]") {
  std::string error;
  auto u = pl::parse_endpoint_url("https://plc.example.org/PLCAPI/", &error);
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->host == "plc.example.org");
  CHECK(u->port == "443");
  CHECK(u->target == "/PLCAPI/");

  u = pl::parse_endpoint_url("http://[::1]:8080", &error);
  REQUIRE(u);
  CHECK_FALSE(u->tls);
  CHECK(u->host == "::1");
  CHECK(u->port == "8080");
  CHECK(u->target == "/");

  CHECK_FALSE(pl::parse_endpoint_url("https://host:99999/", &error));
  CHECK_THAT(error, Catch::Contains("bad port"));
  CHECK_FALSE(pl::parse_endpoint_url("https://:80/", &error));
  CHECK_FALSE(pl::parse_endpoint_url("https://u@host/", &error));
}
