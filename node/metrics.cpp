#include "node/metrics.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace pl::node {

namespace {

/// Escapes a label value (backslash, quote, newline), as the format asks.
std::string label(std::string_view x) {
  std::string out;
  out.reserve(x.size());
  for (char c : x) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

/// Turns a counter name into a metric-name part ([a-zA-Z0-9_]).
std::string metric_part(std::string_view x) {
  std::string out;
  for (char c : x)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

std::string number(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

void header(std::ostringstream& os, std::string_view name, std::string_view type,
            std::string_view help) {
  os << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

std::int64_t counter(const node_status& s, const std::string& name) {
  auto i = s.counters.find(name);
  return i == s.counters.end() ? 0 : i->second;
}

constexpr sliver_phase all_phases[] = {sliver_phase::pending,   sliver_phase::created,
                                       sliver_phase::running,   sliver_phase::stopped,
                                       sliver_phase::destroyed, sliver_phase::failed};

/// Counters with a series of their own; the rest go to nodemgr_events_total.
bool has_own_series(const std::string& name) {
  static const char* own[] = {"poll_failures",
                              "push_connect_failures",
                              "push_disconnects",
                              "refusals",
                              "slivers",
                              "actions_pending",
                              "push_connected",
                              "loans",
                              "byte_capped_slices",
                              "reconcile_runs",
                              "conf_file_failures",
                              "conf_files_failing"};
  if (name.find('/') != std::string::npos)
    return true; // per-slice or per-file details (node_status only)
  return std::find(std::begin(own), std::end(own), name) != std::end(own);
}

} // namespace

const std::vector<double>& node_metrics::latency_bounds() {
  static const std::vector<double> bounds{0.001, 0.005, 0.01, 0.05, 0.1, 0.5,
                                          1,     5,     10,   30,   60,  300};
  return bounds;
}

node_metrics::node_metrics()
    : buckets_(latency_bounds().size(), 0) {}

void node_metrics::observe_reconcile(double seconds) {
  std::lock_guard lock{mutex_};
  ++runs_;
  latency_sum_ += seconds;
  const auto& b = latency_bounds();
  for (std::size_t i = 0; i < b.size(); ++i)
    if (seconds <= b[i]) {
      ++buckets_[i];
      break;
    }
}

void node_metrics::status(node_status s) {
  std::lock_guard lock{mutex_};
  status_ = std::move(s);
}

void node_metrics::byte_caps(std::map<std::string, byte_cap_status> caps) {
  std::lock_guard lock{mutex_};
  caps_ = std::move(caps);
}

std::string node_metrics::render() const {
  std::lock_guard lock{mutex_};
  const auto& s = status_;
  std::ostringstream os;
  header(os, "nodemgr_info", "gauge", "The node this node manager runs (always 1).");
  os << "nodemgr_info{node_id=\"" << s.node_id << "\",hostname=\"" << label(s.hostname)
     << "\",boot_state=\"" << label(s.boot_state) << "\"} 1\n";

  header(os, "nodemgr_slivers", "gauge", "Slivers held, by state.");
  std::map<sliver_phase, std::int64_t> by_phase;
  for (const auto& x : s.slivers)
    ++by_phase[x.phase];
  for (auto p : all_phases)
    os << "nodemgr_slivers{state=\"" << to_string(p) << "\"} " << by_phase[p] << '\n';

  header(os, "nodemgr_reconcile_runs_total", "counter",
         "Reconciliation runs (a plan carried out to its last action).");
  os << "nodemgr_reconcile_runs_total " << runs_ << '\n';
  header(os, "nodemgr_reconcile_duration_seconds", "histogram",
         "Time from a plan's adoption to its last action's outcome.");
  std::uint64_t cumulative = 0;
  const auto& b = latency_bounds();
  for (std::size_t i = 0; i < b.size(); ++i) {
    cumulative += buckets_[i];
    os << "nodemgr_reconcile_duration_seconds_bucket{le=\"" << number(b[i]) << "\"} " << cumulative
       << '\n';
  }
  os << "nodemgr_reconcile_duration_seconds_bucket{le=\"+Inf\"} " << runs_ << '\n';
  os << "nodemgr_reconcile_duration_seconds_sum " << number(latency_sum_) << '\n';
  os << "nodemgr_reconcile_duration_seconds_count " << runs_ << '\n';

  header(os, "nodemgr_sync_failures_total", "counter",
         "Failed syncs with PLC: GetSlivers polls, push link connects and losses.");
  os << "nodemgr_sync_failures_total{link=\"poll\"} " << counter(s, "poll_failures") << '\n';
  os << "nodemgr_sync_failures_total{link=\"push\"} "
     << counter(s, "push_connect_failures") + counter(s, "push_disconnects") << '\n';
  header(os, "nodemgr_push_connected", "gauge", "1 while the push link to PLC is up.");
  os << "nodemgr_push_connected " << counter(s, "push_connected") << '\n';
  header(os, "nodemgr_last_sync_timestamp_seconds", "gauge",
         "When the node last applied a snapshot from PLC (epoch seconds).");
  os << "nodemgr_last_sync_timestamp_seconds " << s.last_sync << '\n';

  header(os, "nodemgr_loans", "gauge", "Loans in force (node manager 1.5's SetLoans).");
  os << "nodemgr_loans " << counter(s, "loans") << '\n';
  header(os, "nodemgr_admission_refusals_total", "counter",
         "Slivers refused by admission or for unusable attributes.");
  os << "nodemgr_admission_refusals_total " << counter(s, "refusals") << '\n';
  header(os, "nodemgr_refused_slices", "gauge", "Slices whose latest delivery was refused.");
  os << "nodemgr_refused_slices " << s.refusals.size() << '\n';
  header(os, "nodemgr_conf_file_failures_total", "counter",
         "Conf files that could not be installed (fetch, write, preinstall_cmd).");
  os << "nodemgr_conf_file_failures_total " << counter(s, "conf_file_failures") << '\n';
  header(os, "nodemgr_conf_files_failing", "gauge", "Conf files whose latest installation failed.");
  os << "nodemgr_conf_files_failing " << counter(s, "conf_files_failing") << '\n';
  header(os, "nodemgr_actions_pending", "gauge", "Sliver actions not carried out yet.");
  os << "nodemgr_actions_pending " << counter(s, "actions_pending") << '\n';

  header(os, "nodemgr_byte_cap_throttled_slices", "gauge",
         "Slices whose transmit ceiling is lowered by the daily byte cap.");
  std::int64_t throttled = 0;
  for (const auto& [slice, c] : caps_)
    throttled += (c.capped || c.i2_capped) ? 1 : 0;
  os << "nodemgr_byte_cap_throttled_slices " << throttled << '\n';
  header(os, "nodemgr_byte_cap_sent_bytes", "gauge",
         "Bytes a slice sent in its current daily window, by class.");
  for (const auto& [slice, c] : caps_) {
    os << "nodemgr_byte_cap_sent_bytes{slice=\"" << label(slice) << "\",class=\"main\"} " << c.sent
       << '\n';
    os << "nodemgr_byte_cap_sent_bytes{slice=\"" << label(slice) << "\",class=\"i2\"} " << c.sent_i2
       << '\n';
  }
  header(os, "nodemgr_byte_cap_ceiling_kbps", "gauge",
         "The transmit ceiling in force for a slice, by class.");
  for (const auto& [slice, c] : caps_) {
    os << "nodemgr_byte_cap_ceiling_kbps{slice=\"" << label(slice) << "\",class=\"main\"} "
       << c.net_max_rate << '\n';
    os << "nodemgr_byte_cap_ceiling_kbps{slice=\"" << label(slice) << "\",class=\"i2\"} "
       << c.net_i2_max_rate << '\n';
  }

  header(os, "nodemgr_events_total", "counter",
         "The node manager's other event counters (node_status counters).");
  for (const auto& [name, value] : s.counters)
    if (!has_own_series(name))
      os << "nodemgr_events_total{event=\"" << metric_part(name) << "\"} " << value << '\n';
  return os.str();
}

// -- the HTTP server ---------------------------------------------------------

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace detail {

struct metrics_server_state {
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::shared_ptr<const node_metrics> metrics;
  std::thread thread;
  std::uint16_t port = 0;
  std::atomic<bool> stopped{false};

  void accept();
};

namespace {

struct session : std::enable_shared_from_this<session> {
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  http::response<http::string_body> response;
  std::shared_ptr<const node_metrics> metrics;

  session(tcp::socket s, std::shared_ptr<const node_metrics> m)
      : stream(std::move(s))
      , metrics(std::move(m)) {}

  void run() {
    stream.expires_after(std::chrono::seconds(10));
    request.body().reserve(0);
    http::async_read(stream, buffer, request,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec)
                         return; // closed, timed out or malformed: drop it
                       self->answer();
                     });
  }

  void answer() {
    response.version(request.version());
    response.keep_alive(false);
    response.set(http::field::server, "nodemgr");
    auto target = request.target();
    auto path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      response.result(http::status::not_found);
      response.set(http::field::content_type, "text/plain");
      response.body() = "only /metrics here\n";
    } else if (request.method() != http::verb::get && request.method() != http::verb::head) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "GET, HEAD");
      response.set(http::field::content_type, "text/plain");
      response.body() = "GET /metrics\n";
    } else {
      response.result(http::status::ok);
      response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      if (request.method() == http::verb::get)
        response.body() = metrics->render();
    }
    response.prepare_payload();
    http::async_write(stream, response,
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }
};

} // namespace

void metrics_server_state::accept() {
  // `this` outlives every handler: stop() joins the thread before the state
  // can go, and handlers left in the stopped io_context never run.
  acceptor.async_accept([self = this](beast::error_code ec, tcp::socket s) {
    if (ec) {
      if (!self->acceptor.is_open())
        return;
      spdlog::warn("node.metrics event=accept_failed error=\"{}\"", ec.message());
    } else {
      std::make_shared<session>(std::move(s), self->metrics)->run();
    }
    self->accept();
  });
}

} // namespace detail

outcome<std::unique_ptr<metrics_server>>
metrics_server::start(std::shared_ptr<const node_metrics> metrics, const std::string& address,
                      std::uint16_t port) {
  auto st = std::make_shared<detail::metrics_server_state>();
  st->metrics = std::move(metrics);
  beast::error_code ec;
  auto addr = net::ip::make_address(address, ec);
  if (ec)
    return failure{"metrics: bad address " + address + ": " + ec.message()};
  tcp::endpoint ep{addr, port};
  st->acceptor.open(ep.protocol(), ec);
  if (!ec)
    st->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    st->acceptor.bind(ep, ec);
  if (!ec)
    st->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return failure{"metrics: cannot listen on " + address + ":" + std::to_string(port) + ": " +
                   ec.message()};
  st->port = st->acceptor.local_endpoint(ec).port();
  if (ec)
    return failure{"metrics: " + ec.message()};
  st->accept();
  st->thread = std::thread{[st = st.get()] { st->ioc.run(); }};
  std::unique_ptr<metrics_server> out{new metrics_server()};
  out->state_ = std::move(st);
  spdlog::info("node.metrics event=listening address={} port={}", address, out->port());
  return out;
}

metrics_server::~metrics_server() {
  stop();
}

std::uint16_t metrics_server::port() const {
  return state_->port;
}

void metrics_server::stop() {
  if (!state_ || state_->stopped.exchange(true))
    return;
  net::post(state_->ioc, [st = state_.get()] {
    beast::error_code ignored;
    st->acceptor.close(ignored);
    st->ioc.stop();
  });
  if (state_->thread.joinable())
    state_->thread.join();
}

} // namespace pl::node
