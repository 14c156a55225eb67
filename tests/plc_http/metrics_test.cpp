#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "plc/http/metrics.hpp"

using namespace pl::plc::http;
using Catch::Contains;

TEST_CASE("counters render with HELP, TYPE and labels", "[metrics]") {
  metrics_registry m;
  m.observe_call("AuthCheck", 0, 0.003);
  m.observe_call("AuthCheck", 0, 0.2);
  m.observe_call("GetSlices", 103, 20.0);
  auto text = m.render();
  CHECK_THAT(text, Contains("# HELP plc_requests_total XML-RPC calls by method"));
  CHECK_THAT(text, Contains("# TYPE plc_requests_total counter\n"));
  CHECK_THAT(text, Contains("plc_requests_total{method=\"AuthCheck\",fault=\"0\"} 2\n"));
  CHECK_THAT(text, Contains("plc_requests_total{method=\"GetSlices\",fault=\"103\"} 1\n"));
}

TEST_CASE("histograms count cumulatively per bucket", "[metrics]") {
  metrics_registry m;
  m.observe_call("AuthCheck", 0, 0.003);
  m.observe_call("AuthCheck", 0, 0.2);
  m.observe_call("GetSlices", 103, 20.0);
  auto text = m.render();
  CHECK_THAT(text, Contains("# TYPE plc_request_duration_seconds histogram\n"));
  CHECK_THAT(text, Contains("plc_request_duration_seconds_bucket{le=\"0.001\"} 0\n"));
  CHECK_THAT(text, Contains("plc_request_duration_seconds_bucket{le=\"0.005\"} 1\n"));
  CHECK_THAT(text, Contains("plc_request_duration_seconds_bucket{le=\"0.25\"} 2\n"));
  CHECK_THAT(text, Contains("plc_request_duration_seconds_bucket{le=\"10\"} 2\n"));
  CHECK_THAT(text, Contains("plc_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
  CHECK_THAT(text, Contains("plc_request_duration_seconds_sum 20.203\n"));
  CHECK_THAT(text, Contains("plc_request_duration_seconds_count 3\n"));
}

TEST_CASE("an observation on a bucket bound falls into that bucket", "[metrics]") {
  metrics_registry m;
  m.define_histogram("sizes", "Sizes.", {1, 2});
  m.observe("sizes", 1);
  m.observe("sizes", 2, {{"k", "v"}});
  auto text = m.render();
  CHECK_THAT(text, Contains("sizes_bucket{le=\"1\"} 1\n"));
  CHECK_THAT(text, Contains("sizes_bucket{k=\"v\",le=\"1\"} 0\n"));
  CHECK_THAT(text, Contains("sizes_bucket{k=\"v\",le=\"2\"} 1\n"));
}

TEST_CASE("gauges are set, added to, or read by callbacks at render time", "[metrics]") {
  metrics_registry m;
  m.define_gauge("plc_db_pool_connections", "DB pool connections by state.");
  double in_use = 3;
  m.set_callback("plc_db_pool_connections", [&] { return in_use; }, {{"state", "in_use"}});
  m.set("plc_db_pool_connections", 8, {{"state", "size"}});
  m.add("plc_db_pool_connections", 2, {{"state", "size"}});
  m.add("plc_db_pool_connections", -0.5, {{"state", "size"}});
  CHECK_THAT(m.render(), Contains("plc_db_pool_connections{state=\"in_use\"} 3\n"));
  in_use = 5;
  auto text = m.render();
  CHECK_THAT(text, Contains("plc_db_pool_connections{state=\"in_use\"} 5\n"));
  CHECK_THAT(text, Contains("plc_db_pool_connections{state=\"size\"} 9.5\n"));
  CHECK_THAT(text, Contains("# TYPE plc_db_pool_connections gauge\n"));
  m.remove_callback("plc_db_pool_connections", {{"state", "in_use"}});
  CHECK(m.render().find("state=\"in_use\"") == std::string::npos);
}

TEST_CASE("a callback may use the registry itself", "[metrics]") {
  metrics_registry m;
  m.define_gauge("self", "Updates the registry while it renders.");
  m.define_counter("reads", "Callback runs.");
  m.set_callback("self", [&] {
    m.increment("reads");
    return 1.0;
  });
  m.render();
  auto text = m.render();
  CHECK_THAT(text, Contains("self 1\n"));
  CHECK_THAT(text, Contains("reads 2\n"));
}

TEST_CASE("label values and help texts are escaped", "[metrics]") {
  metrics_registry m;
  m.define_counter("odd", "Back\\slash and\nnewline.");
  m.increment("odd", {{"v", "a\"b\\c\nd"}});
  auto text = m.render();
  CHECK_THAT(text, Contains("# HELP odd Back\\\\slash and\\nnewline.\n"));
  CHECK_THAT(text, Contains("odd{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST_CASE("label sets beyond the cap fold into one 'other' series", "[metrics]") {
  metrics_registry m;
  for (std::size_t i = 0; i < metrics_registry::max_series_per_family + 10; ++i)
    m.observe_call("Method" + std::to_string(i), 0, 0.001);
  auto text = m.render();
  CHECK_THAT(text, Contains("plc_requests_total{method=\"Method999\",fault=\"0\"} 1\n"));
  CHECK(text.find("Method1000\"") == std::string::npos);
  CHECK_THAT(text, Contains("plc_requests_total{method=\"other\",fault=\"other\"} 10\n"));
}

TEST_CASE("misuse is reported", "[metrics]") {
  metrics_registry m;
  CHECK_THROWS_AS(m.increment("undefined"), std::logic_error);
  CHECK_THROWS_AS(m.set("plc_requests_total", 1), std::logic_error);
  CHECK_THROWS_AS(m.increment("plc_requests_total", {}, -1), std::logic_error);
  CHECK_THROWS_AS(m.define_gauge("plc_requests_total", "again"), std::logic_error);
  CHECK_THROWS_AS(m.define_histogram("h", "bad", {2, 1}), std::logic_error);
  CHECK_NOTHROW(m.define_counter("plc_requests_total", "again"));
}

TEST_CASE("concurrent updates are all counted", "[metrics]") {
  metrics_registry m;
  constexpr int threads = 4;
  constexpr int per_thread = 20000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i)
        m.observe_call("AuthCheck", 0, 0.001);
    });
  for (auto& w : workers)
    w.join();
  auto text = m.render();
  CHECK_THAT(text, Contains("plc_requests_total{method=\"AuthCheck\",fault=\"0\"} 80000\n"));
  CHECK_THAT(text, Contains("plc_request_duration_seconds_count 80000\n"));
}
