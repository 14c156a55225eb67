#include <atomic>
#include <csignal>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <xmlrpc-c/registry.hpp>

#include "plc/http/server.hpp"
#include "tests/plc_http/client.hpp"
#include "tests/plc_http/server_fixture.hpp"

using namespace pl::plc::http;
using namespace pl::plc::http::test;

namespace {

/// Answers every call with its own body wrapped in <echo>, so each reply names its request.
std::string echo(std::string_view body, const request_info&) {
  return "<echo>" + std::string{body} + "</echo>";
}

/// Blocks calls whose body is "slow" until the test releases them; answers the rest at once.
class gate {
public:
  std::string operator()(std::string_view body, const request_info& info) {
    if (body == "slow") {
      entered_.set_value();
      if (release_.get_future().wait_for(wait_limit) != std::future_status::ready)
        return "<gate-timeout/>";
    }
    return echo(body, info);
  }

  /// Returns whether a slow call reached the handler within the wait limit.
  bool wait_entered() { return entered_future_.wait_for(wait_limit) == std::future_status::ready; }
  void release() { release_.set_value(); }

private:
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> release_;
};

} // namespace

TEST_CASE("a POST to /PLCAPI/ gets the handler's reply", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  std::mutex mutex;
  request_info seen;
  running_server srv{test_config(tls), [&](std::string_view body, const request_info& info) {
                       std::lock_guard guard{mutex};
                       seen = info;
                       return echo(body, info);
                     }};
  client c{srv.port(), tls};
  auto res = c.request(make_post("<methodCall/>", "text/xml; charset=utf-8"));
  CHECK(res.result_int() == 200);
  CHECK(res[bhttp::field::content_type] == "text/xml");
  CHECK(res.body() == "<echo><methodCall/></echo>");
  CHECK(res.keep_alive());
  {
    std::lock_guard guard{mutex};
    CHECK(seen.path == "/PLCAPI/");
    CHECK(seen.content_type == "text/xml; charset=utf-8");
    CHECK(seen.peer_address == "127.0.0.1");
    CHECK(seen.peer_port != 0);
  }

  SECTION("/PLCAPI without the slash and application/xml are accepted too") {
    auto other = c.request(make_request(bhttp::verb::post, "/PLCAPI", "x", "application/xml"));
    CHECK(other.result_int() == 200);
    CHECK(other.body() == "<echo>x</echo>");
    std::lock_guard guard{mutex};
    CHECK(seen.path == "/PLCAPI");
  }
}

TEST_CASE("keep-alive serves several requests on one connection", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  std::mutex mutex;
  std::set<std::uint16_t> peer_ports;
  running_server srv{test_config(tls), [&](std::string_view body, const request_info& info) {
                       std::lock_guard guard{mutex};
                       peer_ports.insert(info.peer_port);
                       return echo(body, info);
                     }};
  client c{srv.port(), tls};
  for (int i = 0; i < 5; ++i) {
    auto res = c.request(make_post("call " + std::to_string(i)));
    CHECK(res.body() == "<echo>call " + std::to_string(i) + "</echo>");
    CHECK(res.keep_alive());
  }
  auto health = c.request(make_request(bhttp::verb::get, "/healthz"));
  CHECK(health.result_int() == 200);
  std::lock_guard guard{mutex};
  CHECK(peer_ports.size() == 1);
}

TEST_CASE("pipelined requests are answered in order", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  running_server srv{test_config(tls), echo};
  client c{srv.port(), tls};
  REQUIRE_FALSE(c.write_raw("POST /PLCAPI/ HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                            "Content-Length: 3\r\n\r\none"
                            "POST /PLCAPI/ HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                            "Content-Length: 3\r\n\r\ntwo"));
  auto first = c.read_response();
  auto second = c.read_response();
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->body() == "<echo>one</echo>");
  CHECK(second->body() == "<echo>two</echo>");
}

TEST_CASE("sixteen concurrent clients all get their own replies", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  auto config = test_config(tls);
  config.io_threads = 2;
  running_server srv{config, echo};
  constexpr int clients = 16;
  constexpr int calls = 20;
  std::atomic<int> good{0};
  std::vector<std::future<void>> done;
  for (int k = 0; k < clients; ++k)
    done.push_back(std::async(std::launch::async, [&, k] {
      client c{srv.port(), tls};
      for (int i = 0; i < calls; ++i) {
        auto body = std::to_string(k) + "/" + std::to_string(i);
        if (c.request(make_post(body)).body() == "<echo>" + body + "</echo>")
          ++good;
      }
    }));
  for (auto& f : done)
    f.get(); // rethrows a client's failure
  CHECK(good == clients * calls);
}

TEST_CASE("an oversized body gets 413 without being read", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  auto config = test_config(tls);
  config.max_body_bytes = 1024;
  running_server srv{config, echo};

  SECTION("a body sent in full") {
    client c{srv.port(), tls};
    REQUIRE_FALSE(c.write(make_post(std::string(256 * 1024, 'x'))));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->result_int() == 413);
    CHECK(res->body().find("1024 bytes") != std::string::npos);
    CHECK_FALSE(res->keep_alive());
    CHECK(c.closed_by_server());
    CHECK_THAT(srv.metrics().render(),
               Catch::Contains("plc_http_requests_total{status=\"413\"} 1\n"));
  }
  SECTION("a header announcing a gigabyte is answered before the body arrives") {
    client c{srv.port(), tls};
    REQUIRE_FALSE(c.write_raw("POST /PLCAPI/ HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                              "Content-Length: 1000000000\r\n\r\n<methodCall>"));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->result_int() == 413);
  }
  SECTION("a body exactly at the limit is accepted") {
    client c{srv.port(), tls};
    CHECK(c.request(make_post(std::string(1024, 'y'))).result_int() == 200);
  }
  client after{srv.port(), tls};
  CHECK(after.request(make_post("still here")).body() == "<echo>still here</echo>");
}

TEST_CASE("a wrong content type gets 415", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  running_server srv{test_config(tls), echo};
  client c{srv.port(), tls};
  auto res = c.request(make_post("{}", "application/json"));
  CHECK(res.result_int() == 415);
  CHECK(res.body().find("text/xml") != std::string::npos);
  CHECK(res.body().find("application/json") != std::string::npos);

  client d{srv.port(), tls};
  CHECK(d.request(make_post("x", "")).result_int() == 415);
  client e{srv.port(), tls};
  CHECK(e.request(make_post("x")).result_int() == 200);
}

TEST_CASE("GET on /PLCAPI/ gets 405 with Allow: POST and keeps the connection", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  running_server srv{test_config(tls), echo};
  client c{srv.port(), tls};
  auto res = c.request(make_request(bhttp::verb::get, "/PLCAPI/"));
  CHECK(res.result_int() == 405);
  CHECK(res[bhttp::field::allow] == "POST");
  CHECK(res.keep_alive());
  CHECK(c.request(make_request(bhttp::verb::head, "/PLCAPI/")).result_int() == 405);
  CHECK(c.request(make_post("next")).body() == "<echo>next</echo>");
  CHECK(c.request(make_request(bhttp::verb::post, "/healthz", "x", "text/xml")).result_int() ==
        405);
}

TEST_CASE("an unknown path gets 404", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  running_server srv{test_config(tls), echo};
  client c{srv.port(), tls};
  auto res = c.request(make_request(bhttp::verb::get, "/RPC2"));
  CHECK(res.result_int() == 404);
  CHECK(res.body().find("/PLCAPI/") != std::string::npos);
}

TEST_CASE("a malformed request gets 400 and the connection is closed", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  running_server srv{test_config(tls), echo};
  auto raw = GENERATE(as<std::string>{}, "this is not http\r\n\r\n",
                      "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
                      "GET\x01 / HTTP/1.1\r\n\r\n");
  CAPTURE(raw);
  client c{srv.port(), tls};
  REQUIRE_FALSE(c.write_raw(raw));
  auto res = c.read_response();
  REQUIRE(res);
  CHECK(res->result_int() == 400);
  CHECK(res->body().find("malformed HTTP request") != std::string::npos);
  CHECK(c.closed_by_server());
  client after{srv.port(), tls};
  CHECK(after.request(make_request(bhttp::verb::get, "/healthz")).result_int() == 200);
}

TEST_CASE("an oversized header gets 431", "[server]") {
  running_server srv{test_config(false), echo};
  client c{srv.port(), false};
  REQUIRE_FALSE(c.write_raw("GET /healthz HTTP/1.1\r\nX-Padding: " + std::string(64 * 1024, 'p') +
                            "\r\n\r\n"));
  auto res = c.read_response();
  REQUIRE(res);
  CHECK(res->result_int() == 431);
}

TEST_CASE("/healthz answers ok, also to HEAD", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  running_server srv{test_config(tls), echo};
  client c{srv.port(), tls};
  auto res = c.request(make_request(bhttp::verb::get, "/healthz"));
  CHECK(res.result_int() == 200);
  CHECK(res.body() == "ok\n");
  auto head = c.request(make_request(bhttp::verb::head, "/healthz"));
  CHECK(head.result_int() == 200);
  CHECK(head[bhttp::field::content_length] == "3");
  CHECK(head.body().empty());
  CHECK(c.request(make_request(bhttp::verb::get, "/healthz")).body() == "ok\n");
}

TEST_CASE("a fixed document is served by GET and HEAD, with its content type", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  auto config = test_config(tls);
  const std::string pem =
      "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n";
  config.documents["/ticket-key.pem"] = {"application/x-pem-file", pem};
  running_server srv{std::move(config), echo};
  client c{srv.port(), tls};
  auto res = c.request(make_request(bhttp::verb::get, "/ticket-key.pem"));
  CHECK(res.result_int() == 200);
  CHECK(res[bhttp::field::content_type] == "application/x-pem-file");
  CHECK(res.body() == pem);
  auto head = c.request(make_request(bhttp::verb::head, "/ticket-key.pem"));
  CHECK(head.result_int() == 200);
  CHECK(head.body().empty());
  CHECK(c.request(make_request(bhttp::verb::get, "/other.pem")).result_int() == 404);
  // (A refused body is not read, so the server closes this connection.)
  CHECK(c.request(make_request(bhttp::verb::put, "/ticket-key.pem", "x", "text/plain"))
            .result_int() == 405);
}

TEST_CASE("/metrics renders the HTTP and XML-RPC counters", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  metrics_registry* metrics = nullptr;
  running_server srv{test_config(tls), [&](std::string_view body, const request_info& info) {
                       metrics->observe_call("AuthCheck", body == "bad" ? 103 : 0, 0.002);
                       return echo(body, info);
                     }};
  metrics = &srv.metrics();
  client c{srv.port(), tls};
  c.request(make_post("good"));
  c.request(make_post("good"));
  c.request(make_post("bad"));
  c.request(make_request(bhttp::verb::get, "/nowhere"));
  auto res = c.request(make_request(bhttp::verb::get, "/metrics"));
  CHECK(res.result_int() == 200);
  CHECK(res[bhttp::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
  const auto& text = res.body();
  CHECK_THAT(text, Catch::Contains("plc_requests_total{method=\"AuthCheck\",fault=\"0\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("plc_requests_total{method=\"AuthCheck\",fault=\"103\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("plc_http_requests_total{status=\"200\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("plc_http_requests_total{status=\"404\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("plc_request_duration_seconds_count 3\n"));
  CHECK_THAT(text, Catch::Contains("plc_http_connections 1\n"));
  // The /metrics request itself is in flight while it renders.
  CHECK_THAT(text, Catch::Contains("plc_http_requests_in_flight 1\n"));
}

TEST_CASE("a handler that throws gets 500 and the server carries on", "[server]") {
  running_server srv{test_config(false), [](std::string_view body, const request_info& info) {
                       if (body == "boom")
                         throw std::runtime_error("boom");
                       return echo(body, info);
                     }};
  client c{srv.port(), false};
  CHECK(c.request(make_post("boom")).result_int() == 500);
  CHECK(c.request(make_post("fine")).body() == "<echo>fine</echo>");
}

TEST_CASE("Expect: 100-continue gets an interim answer before the body is sent", "[server]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  running_server srv{test_config(tls), echo};
  client c{srv.port(), tls};
  REQUIRE_FALSE(c.write_raw("POST /PLCAPI/ HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                            "Expect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto interim = c.read_response();
  REQUIRE(interim);
  CHECK(interim->result_int() == 100);
  REQUIRE_FALSE(c.write_raw("body"));
  auto res = c.read_response();
  REQUIRE(res);
  CHECK(res->body() == "<echo>body</echo>");
}

TEST_CASE("malformed XML through an xmlrpc-c registry gets a well-formed fault", "[server]") {
  xmlrpc_c::registry registry;
  running_server srv{test_config(false), [&](std::string_view body, const request_info&) {
                       std::string out;
                       registry.processCall(std::string{body}, &out);
                       return out;
                     }};
  client c{srv.port(), false};
  auto res = c.request(make_post("<methodCall><methodName>x</methodN"));
  CHECK(res.result_int() == 200);
  CHECK_THAT(res.body(), Catch::Contains("<fault>"));
  CHECK_THAT(res.body(), Catch::Contains("</methodResponse>"));
}

TEST_CASE("stop() lets a slow request finish, closes idle connections and returns",
          "[server][drain]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  gate g;
  running_server srv{test_config(tls), std::ref(g)};

  client idle{srv.port(), tls};
  REQUIRE(idle.request(make_request(bhttp::verb::get, "/healthz")).result_int() == 200);

  auto slow = std::async(std::launch::async, [&] {
    client c{srv.port(), tls};
    return c.request(make_post("slow"));
  });
  REQUIRE(g.wait_entered());

  srv.server().stop();
  // The idle connection is closed while the slow request is still in the handler.
  CHECK(idle.closed_by_server());
  g.release();

  REQUIRE(slow.wait_for(wait_limit) == std::future_status::ready);
  auto res = slow.get();
  CHECK(res.result_int() == 200);
  CHECK(res.body() == "<echo>slow</echo>");
  CHECK_FALSE(res.keep_alive());

  REQUIRE(srv.finished_in_time());
  CHECK(srv.drained_cleanly());
  CHECK_THROWS(client{srv.port(), tls});
}

TEST_CASE("the drain timeout cuts a drain that does not end", "[server][drain]") {
  gate g;
  auto config = test_config(false);
  config.drain_timeout = std::chrono::seconds(1);
  running_server srv{config, std::ref(g)};
  auto slow = std::async(std::launch::async, [&] {
    client c{srv.port(), false};
    c.write(make_post("slow"));
    return c.read_response().has_value();
  });
  REQUIRE(g.wait_entered());
  srv.server().stop();
  REQUIRE(srv.finished_in_time());
  CHECK_FALSE(srv.drained_cleanly());
  g.release();
  REQUIRE(slow.wait_for(wait_limit) == std::future_status::ready);
  CHECK_FALSE(slow.get());
}

TEST_CASE("SIGTERM drains and stops the server", "[server][drain]") {
  auto config = test_config(false);
  config.handle_signals = true;
  running_server srv{config, echo};
  client c{srv.port(), false};
  REQUIRE(c.request(make_post("before")).result_int() == 200);
  REQUIRE(std::raise(SIGTERM) == 0);
  REQUIRE(srv.finished_in_time());
  CHECK(srv.drained_cleanly());
  CHECK(c.closed_by_server());
}

TEST_CASE("start() reports what it could not do", "[server]") {
  metrics_registry metrics;
  SECTION("a missing certificate") {
    auto config = test_config(true);
    config.cert_pem_file = (shared_tls_files().dir() / "missing.pem").string();
    server srv{config, echo, metrics};
    CHECK_THROWS_WITH(srv.start(), Catch::Contains("missing.pem"));
  }
  SECTION("a port already in use") {
    running_server first{test_config(false), echo};
    auto config = test_config(false);
    config.port = first.port();
    server srv{config, echo, metrics};
    CHECK_THROWS_AS(srv.start(), std::system_error);
  }
  SECTION("an address that is not one") {
    auto config = test_config(false);
    config.address = "not-an-address";
    server srv{config, echo, metrics};
    CHECK_THROWS_WITH(srv.start(), Catch::Contains("not-an-address"));
  }
}
