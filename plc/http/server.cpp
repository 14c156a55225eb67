#include "plc/http/server.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "plc/http/router.hpp"

namespace pl::plc::http {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using beast::error_code;

namespace {

/// Bounds a request header; Beast's default (8 KiB) is tight for long cookies or proxies.
constexpr std::uint32_t header_limit = 16 * 1024;
/// Bounds the wait for the peer's TLS close_notify when closing.
constexpr auto tls_shutdown_timeout = std::chrono::seconds(2);
/// Bounds how long unread request data is drained before closing (see `linger`).
constexpr auto linger_timeout = std::chrono::seconds(2);
/// Pauses accepting after running out of descriptors, so the loop does not spin.
constexpr auto accept_backoff = std::chrono::milliseconds(100);

auto redirect(error_code& ec) {
  return net::redirect_error(net::use_awaitable, ec);
}

std::system_error to_system_error(const error_code& ec, const std::string& what) {
  return std::system_error{static_cast<std::error_code>(ec), what};
}

ssl::context make_tls_context(const server_config& config) {
  ssl::context ctx{ssl::context::tls_server};
  error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::single_dh_use,
                  ec);
  if (ec)
    throw to_system_error(ec, "plc http: cannot set TLS options");
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
    throw std::runtime_error("plc http: cannot require TLS 1.2 or newer");
  if (config.cert_pem_file.empty() || config.key_pem_file.empty())
    throw std::invalid_argument("plc http: TLS needs cert_pem_file and key_pem_file");
  ctx.use_certificate_chain_file(config.cert_pem_file, ec);
  if (ec)
    throw to_system_error(ec, "plc http: cannot load certificate " + config.cert_pem_file);
  ctx.use_private_key_file(config.key_pem_file, ssl::context::pem, ec);
  if (ec)
    throw to_system_error(ec, "plc http: cannot load private key " + config.key_pem_file);
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    throw std::runtime_error("plc http: private key " + config.key_pem_file +
                             " does not match certificate " + config.cert_pem_file);
  return ctx;
}

/// Lets the server reach every live connection when it stops, whatever its stream type.
class connection_base : public std::enable_shared_from_this<connection_base> {
public:
  virtual ~connection_base() = default;
  /// Closes the connection if it is waiting for the next request; safe from any thread.
  virtual void close_if_idle() = 0;
  /// Ends the connection at once; only while no thread runs the I/O.
  virtual void cut() = 0;
};

/// Describes one answer before it is serialised.
struct reply {
  unsigned status = 200;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string_view allow = {};
  /// Forces `Connection: close` (bad framing, or a body left unread).
  bool close = false;
};

} // namespace

namespace detail {

/// Holds everything a server and its connections share.
struct server_state {
  server_state(server_config cfg, rpc_handler h, metrics_registry& m)
      : config{std::move(cfg)}
      , handler{std::move(h)}
      , metrics{m}
      , ioc{static_cast<int>(std::max<std::size_t>(config.io_threads, 1))}
      , control{net::make_strand(ioc)}
      , acceptor{control}
      , signals{control}
      , drain_timer{control}
      , workers{std::max<std::size_t>(config.worker_threads, 1)} {
    metrics.set("plc_http_connections", 0);
    metrics.set("plc_http_requests_in_flight", 0);
  }

  ~server_state() {
    destroying = true;
    // Jobs still queued hold suspended connections; finish or drop them while the I/O objects
    // they refer to still exist.
    workers.join();
  }

  /// Returns the executor for a new connection: a strand only when several threads run I/O.
  net::any_io_executor connection_executor() {
    if (config.io_threads > 1)
      return net::make_strand(ioc);
    return ioc.get_executor();
  }

  net::awaitable<void> accept_loop();
  void start_connection(tcp::socket socket);
  void wait_for_signal();
  void begin_drain();
  void finish(bool clean);
  void add_connection(connection_base* c);
  void remove_connection(connection_base* c);
  std::vector<std::shared_ptr<connection_base>> live_connections();

  // Declared before `ioc`: connections destroyed with the io_context still use them.
  server_config config;
  rpc_handler handler;
  metrics_registry& metrics;
  std::optional<ssl::context> tls;
  std::mutex connections_mutex;
  std::unordered_set<connection_base*> connections;
  std::atomic<bool> stopping{false};
  bool started = false;
  std::uint16_t port = 0;
  std::atomic<bool> finished{false};
  std::atomic<bool> destroying{false};
  bool clean = true; // on `control`

  net::io_context ioc;
  net::strand<net::io_context::executor_type> control; // acceptor, signals, drain
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer drain_timer;
  // Last, so it is joined first: its jobs post back to `ioc`.
  net::thread_pool workers;
};

} // namespace detail

namespace {

/// Serves the HTTP requests of one connection, one at a time, in order.
template <class Stream>
class connection final : public connection_base {
public:
  static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

  connection(detail::server_state& srv, Stream stream, request_info peer)
      : srv_{srv}
      , stream_{std::move(stream)}
      , info_{std::move(peer)} {
    if constexpr (!is_tls) {
      // Lets a worker write an answer without ever blocking (see `answer_on_worker`).
      error_code ec;
      lowest().socket().non_blocking(true, ec);
      worker_writes_ = !ec;
      if (ec)
        spdlog::warn("plc.http nonblocking_failed peer={} error={}", info_.peer_address,
                     ec.message());
    }
    srv_.add_connection(this);
  }

  ~connection() override { srv_.remove_connection(this); }

  static net::awaitable<void> serve(std::shared_ptr<connection> self) {
    try {
      co_await self->run();
    } catch (const std::exception& e) {
      spdlog::warn("plc.http connection_failed peer={} error={}", self->info_.peer_address,
                   e.what());
    }
  }

  void close_if_idle() override {
    net::post(stream_.get_executor(), [self = shared_from_this(), this] {
      if (idle_)
        lowest().cancel();
    });
  }

  void cut() override {
    // shutdown, not close: a worker may still be writing an answer on this descriptor.
    error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
  }

private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  net::awaitable<void> run() {
    error_code ec;
    if constexpr (is_tls) {
      lowest().expires_after(srv_.config.idle_timeout);
      co_await stream_.async_handshake(ssl::stream_base::server, redirect(ec));
      if (ec)
        co_return; // scanners and clients that reject our certificate: nothing to answer
    }
    bool keep_alive = true;
    while (keep_alive && !srv_.stopping)
      keep_alive = co_await serve_request();
    if (!lowest().socket().is_open())
      co_return;
    if constexpr (is_tls) {
      lowest().expires_after(tls_shutdown_timeout);
      co_await stream_.async_shutdown(redirect(ec));
    }
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().close();
  }

  /// Reads one request and answers it; returns whether the connection stays open.
  net::awaitable<bool> serve_request() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(srv_.config.max_body_bytes);

    error_code ec;
    lowest().expires_after(srv_.config.idle_timeout);
    idle_ = buffer_.size() == 0;
    co_await bhttp::async_read_header(stream_, buffer_, *parser_, redirect(ec));
    idle_ = false;
    if (ec)
      co_return co_await answer_read_error(ec);

    in_flight_guard guard{srv_.metrics};
    auto& req = parser_->get();
    auto r = route_request(req.method_string(), req.target(), req[bhttp::field::content_type],
                           &srv_.config.documents, &srv_.config.file_trees);
    file_request_ = r.kind == route_kind::file;
    switch (r.kind) {
    case route_kind::rpc:
      co_return co_await answer_rpc();
    case route_kind::healthz:
      answer_ = reply{200, "text/plain; charset=utf-8", "ok\n"};
      co_return co_await respond();
    case route_kind::metrics:
      answer_ = reply{200, "text/plain; version=0.0.4; charset=utf-8", srv_.metrics.render()};
      co_return co_await respond();
    case route_kind::document: {
      auto target = req.target();
      const auto& doc = srv_.config.documents.find(target.substr(0, target.find('?')))->second;
      answer_ = reply{200, doc.content_type, doc.body};
      co_return co_await respond();
    }
    case route_kind::file: {
      // Disk reads go to the worker pool, like handler calls; a body sent with the GET is
      // left unread, which closes the connection after the answer.
      auto target = req.target();
      info_.path.assign(target.substr(0, target.find('?')));
      co_await async_answer_on_worker(net::use_awaitable);
      co_return co_await send();
    }
    case route_kind::error:
      break;
    }
    answer_ = reply{r.status, "text/plain; charset=utf-8", std::move(r.message), r.allow};
    co_return co_await respond();
  }

  net::awaitable<bool> answer_rpc() {
    auto& req = parser_->get();
    error_code ec;
    lowest().expires_after(srv_.config.idle_timeout);
    if (req.version() >= 11 && beast::iequals(req[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, 11};
      co_await bhttp::async_write(stream_, go_on, redirect(ec));
      if (ec)
        co_return false;
    }
    co_await bhttp::async_read(stream_, buffer_, *parser_, redirect(ec));
    if (ec)
      co_return co_await answer_read_error(ec);

    auto path = req.target();
    info_.path.assign(path.substr(0, path.find('?')));
    info_.content_type.assign(req[bhttp::field::content_type]);
    co_await async_answer_on_worker(net::use_awaitable);
    co_return co_await send();
  }

  /// Runs the handler on the worker pool and prepares its answer there; completes on the
  /// connection's executor, which it keeps busy so a drain cannot end under it.
  ///
  /// Over plain HTTP the worker also writes the answer if the socket takes it at once, which
  /// takes a thread hand-off out of every call's latency; `send()` writes whatever remains. Only
  /// this connection's coroutine touches the stream, and it is suspended meanwhile.
  template <class CompletionToken>
  auto async_answer_on_worker(CompletionToken&& token) {
    return net::async_initiate<CompletionToken, void()>(
        [this](auto handler) {
          auto home = net::prefer(net::get_associated_executor(handler),
                                  net::execution::outstanding_work.tracked);
          net::post(srv_.workers,
                    [this, handler = std::move(handler), home = std::move(home)]() mutable {
                      answer_on_worker();
                      net::post(home, std::move(handler));
                    });
        },
        token);
  }

  /// Calls the handler and prepares its answer; runs on a worker thread.
  void answer_on_worker() {
    try {
      if (file_request_)
        answer_ = file_reply(info_.path);
      else
        answer_ = reply{200, "text/xml", srv_.handler(parser_->get().body(), info_)};
    } catch (const std::exception& e) {
      spdlog::error("plc.http handler_failed peer={} error={}", info_.peer_address, e.what());
      answer_ = reply{500, "text/plain; charset=utf-8", "internal error: the handler failed\n"};
    } catch (...) {
      spdlog::error("plc.http handler_failed peer={} error=unknown", info_.peer_address);
      answer_ = reply{500, "text/plain; charset=utf-8", "internal error: the handler failed\n"};
    }
    prepare_response();
    if (worker_writes_) {
      // The socket is non-blocking: this writes what fits now and leaves the rest to send().
      error_code ec;
      bhttp::write(lowest().socket(), *serializer_, ec);
    }
  }

  /// Reads the file `path` names from the first tree whose prefix it has; runs on a worker.
  reply file_reply(const std::string& path) {
    for (const auto& tree : srv_.config.file_trees) {
      if (!in_tree(tree, path))
        continue;
      auto file = read_tree_file(tree, path);
      if (file.status == 200)
        spdlog::debug("plc.http event=file_served peer={} path={} bytes={}", info_.peer_address,
                      path, file.body.size());
      else
        spdlog::info("plc.http event=file_refused peer={} path={} status={}", info_.peer_address,
                     path, file.status);
      file_content_type_ = std::move(file.content_type);
      return reply{file.status, file_content_type_, std::move(file.body)};
    }
    return reply{404, "text/plain; charset=utf-8", "not found\n"};
  }

  /// Answers a failed read where HTTP calls for an answer; returns false (always closes).
  net::awaitable<bool> answer_read_error(const error_code& ec) {
    if (ec == bhttp::error::body_limit) {
      answer_ = reply{413,
                      "text/plain; charset=utf-8",
                      "request body too large: the limit is " +
                          std::to_string(srv_.config.max_body_bytes) + " bytes\n",
                      {},
                      true};
      co_return co_await respond();
    }
    if (ec == bhttp::error::header_limit) {
      answer_ = reply{431, "text/plain; charset=utf-8", "request header too large\n", {}, true};
      co_return co_await respond();
    }
    // A peer that closed, timed out or was cancelled by a drain is owed nothing; a malformed
    // message is.
    bool malformed = ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
                     ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
    if (malformed) {
      parser_.reset(); // answer as HTTP/1.1: the request line may be unreadable
      answer_ = reply{400,
                      "text/plain; charset=utf-8",
                      "malformed HTTP request: " + ec.message() + "\n",
                      {},
                      true};
      co_await respond();
    }
    co_return false;
  }

  /// Builds the response to `answer_`, ready for `send()`, and counts it.
  ///
  /// Answers live in members: GCC 12 destroys temporaries passed to a coroutine inside a
  /// co_await expression twice, so they never travel as coroutine arguments.
  void prepare_response() {
    reply& r = answer_;
    const bhttp::request<bhttp::string_body>* req = parser_ ? &parser_->get() : nullptr;
    // A request whose body we did not read leaves the stream unframed: close after answering.
    bool body_unread = parser_ && !parser_->is_done();
    linger_ = body_unread || r.close;
    keep_alive_ = req && req->keep_alive() && !linger_ && !srv_.stopping.load();

    response_.emplace(static_cast<bhttp::status>(r.status), req ? req->version() : 11);
    response_->set(bhttp::field::content_type, r.content_type);
    if (!r.allow.empty())
      response_->set(bhttp::field::allow, r.allow);
    response_->keep_alive(keep_alive_);
    if (req && req->method() == bhttp::verb::head) {
      response_->content_length(r.body.size());
    } else {
      response_->body() = std::move(r.body);
      response_->prepare_payload();
    }
    serializer_.emplace(*response_);

    char status[8];
    auto end = std::to_chars(status, status + sizeof status, r.status).ptr;
    srv_.metrics.increment("plc_http_requests_total",
                           {{"status", std::string_view(status, end - status)}});
  }

  /// Prepares and writes the answer in `answer_`; returns whether the connection stays open.
  net::awaitable<bool> respond() {
    prepare_response();
    co_return co_await send();
  }

  /// Writes what `prepare_response()` built; returns whether the connection stays open.
  net::awaitable<bool> send() {
    error_code ec;
    if (!serializer_->is_done()) {
      lowest().expires_after(srv_.config.idle_timeout);
      co_await bhttp::async_write(stream_, *serializer_, redirect(ec));
    }
    serializer_.reset();
    response_.reset();
    if (ec)
      co_return false;
    if (linger_)
      co_await linger();
    co_return keep_alive_;
  }

  /// Closes after an answer sent while the client may still be sending.
  ///
  /// Closing a socket with unread data makes the kernel send a reset, which can destroy our
  /// answer before the client reads it. So stop sending, then discard what arrives until the
  /// client closes or `linger_timeout` passes (bytes are discarded as they come, never stored).
  net::awaitable<void> linger() {
    error_code ec;
    auto& socket = lowest().socket();
    socket.shutdown(tcp::socket::shutdown_send, ec);
    if (ec)
      co_return;
    lowest().expires_after(linger_timeout);
    char sink[16 * 1024];
    while (!ec)
      co_await lowest().async_read_some(net::buffer(sink), redirect(ec));
    lowest().close();
  }

  /// Keeps `plc_http_requests_in_flight` right on every path out of a request.
  struct in_flight_guard {
    explicit in_flight_guard(metrics_registry& m)
        : metrics{m} {
      metrics.add("plc_http_requests_in_flight", 1);
    }
    ~in_flight_guard() { metrics.add("plc_http_requests_in_flight", -1); }
    in_flight_guard(const in_flight_guard&) = delete;
    in_flight_guard& operator=(const in_flight_guard&) = delete;
    metrics_registry& metrics;
  };

  detail::server_state& srv_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  reply answer_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  std::optional<bhttp::serializer<false, bhttp::string_body>> serializer_;
  bool keep_alive_ = false;
  bool linger_ = false;
  /// Lets the worker write answers (plain HTTP on a non-blocking socket only).
  bool worker_writes_ = false;
  /// Marks the request in hand as one for a file of `file_trees` (read on a worker).
  bool file_request_ = false;
  /// Holds the content type of a file answer (`reply` only views it).
  std::string file_content_type_;
  request_info info_;
  /// Marks a connection waiting for a request with nothing of it read (on its executor).
  bool idle_ = false;
};

void log_coroutine_failure(std::exception_ptr error) {
  if (!error)
    return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("plc.http coroutine_failed error={}", e.what());
  }
}

} // namespace

void detail::server_state::add_connection(connection_base* c) {
  metrics.add("plc_http_connections", 1);
  std::lock_guard guard{connections_mutex};
  connections.insert(c);
}

void detail::server_state::remove_connection(connection_base* c) {
  metrics.add("plc_http_connections", -1);
  bool last = false;
  {
    std::lock_guard guard{connections_mutex};
    connections.erase(c);
    last = connections.empty();
  }
  if (last && stopping && !finished && !destroying)
    net::post(control, [this] { finish(true); });
}

std::vector<std::shared_ptr<connection_base>> detail::server_state::live_connections() {
  std::vector<std::shared_ptr<connection_base>> out;
  std::lock_guard guard{connections_mutex};
  for (auto* c : connections)
    // A connection in its destructor is still listed (it waits for our lock) but cannot be
    // locked: skip it.
    if (auto strong = c->weak_from_this().lock())
      out.push_back(std::move(strong));
  return out;
}

net::awaitable<void> detail::server_state::accept_loop() {
  for (;;) {
    tcp::socket socket{connection_executor()};
    error_code ec;
    co_await acceptor.async_accept(socket, redirect(ec));
    if (stopping || ec == net::error::operation_aborted)
      co_return;
    if (ec) {
      spdlog::warn("plc.http accept_failed error={}", ec.message());
      if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
          ec == net::error::no_memory) {
        net::steady_timer pause{control, accept_backoff};
        co_await pause.async_wait(redirect(ec));
      }
      continue;
    }
    start_connection(std::move(socket));
  }
}

void detail::server_state::start_connection(tcp::socket socket) {
  error_code ec;
  // Answers are written in one piece; Nagle would only delay them.
  socket.set_option(tcp::no_delay{true}, ec);
  request_info peer;
  auto remote = socket.remote_endpoint(ec);
  if (ec)
    return; // the client is already gone
  peer.peer_address = remote.address().to_string();
  peer.peer_port = remote.port();
  auto executor = socket.get_executor();
  auto done = [](std::exception_ptr e) { log_coroutine_failure(e); };
  if (tls) {
    using stream = beast::ssl_stream<beast::tcp_stream>;
    auto c = std::make_shared<connection<stream>>(*this, stream{std::move(socket), *tls},
                                                  std::move(peer));
    net::co_spawn(executor, connection<stream>::serve(std::move(c)), done);
  } else {
    using stream = beast::tcp_stream;
    auto c =
        std::make_shared<connection<stream>>(*this, stream{std::move(socket)}, std::move(peer));
    net::co_spawn(executor, connection<stream>::serve(std::move(c)), done);
  }
}

void detail::server_state::wait_for_signal() {
  signals.async_wait([this](const error_code& ec, int signal) {
    if (ec)
      return;
    if (!stopping) {
      spdlog::info("plc.http signal_received signal={} action=drain", signal);
      begin_drain();
      wait_for_signal();
    } else {
      spdlog::warn("plc.http signal_received signal={} action=cut_drain", signal);
      finish(false);
    }
  });
}

void detail::server_state::begin_drain() {
  if (stopping.exchange(true))
    return;
  error_code ec;
  acceptor.close(ec);
  drain_timer.expires_after(config.drain_timeout);
  drain_timer.async_wait([this](const error_code& ec) {
    if (!ec) {
      spdlog::warn("plc.http drain_timeout seconds={}", config.drain_timeout.count());
      finish(false);
    }
  });
  auto live = live_connections();
  if (live.empty()) {
    finish(true);
    return;
  }
  for (auto& c : live)
    c->close_if_idle();
}

void detail::server_state::finish(bool drained) {
  if (finished.exchange(true))
    return;
  clean = drained;
  error_code ec;
  drain_timer.cancel();
  // Restore the default dispositions: a signal after the drain should end the process.
  signals.clear(ec);
  ioc.stop();
}

server::server(server_config config, rpc_handler handler, metrics_registry& metrics)
    : state_{
          std::make_unique<detail::server_state>(std::move(config), std::move(handler), metrics)} {
  if (!state_->handler)
    throw std::invalid_argument("plc http: server needs an rpc_handler");
}

server::~server() = default;

void server::start() {
  auto& s = *state_;
  if (s.started)
    throw std::logic_error("plc http: server started twice");
  if (s.config.tls)
    s.tls.emplace(make_tls_context(s.config));

  error_code ec;
  auto address = net::ip::make_address(s.config.address, ec);
  if (ec)
    throw to_system_error(ec, "plc http: invalid listen address '" + s.config.address + "'");
  tcp::endpoint endpoint{address, s.config.port};
  auto where = s.config.address + ":" + std::to_string(s.config.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (ec)
    throw to_system_error(ec, "plc http: cannot open a socket for " + where);
  s.acceptor.set_option(tcp::acceptor::reuse_address{true}, ec);
  if (ec)
    throw to_system_error(ec, "plc http: cannot set SO_REUSEADDR for " + where);
  s.acceptor.bind(endpoint, ec);
  if (ec)
    throw to_system_error(ec, "plc http: cannot bind " + where);
  s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw to_system_error(ec, "plc http: cannot listen on " + where);

  if (s.config.handle_signals) {
    s.signals.add(SIGTERM, ec);
    if (!ec)
      s.signals.add(SIGINT, ec);
    if (ec)
      throw to_system_error(ec, "plc http: cannot handle SIGTERM/SIGINT");
    s.wait_for_signal();
  }
  s.port = s.acceptor.local_endpoint(ec).port();
  if (ec)
    throw to_system_error(ec, "plc http: cannot read the port bound for " + where);
  s.started = true;
  net::co_spawn(s.control, s.accept_loop(), [](std::exception_ptr e) { log_coroutine_failure(e); });
}

std::uint16_t server::port() const {
  error_code ec;
  return state_->port;
}

bool server::run_until_stopped() {
  auto& s = *state_;
  if (!s.started)
    throw std::logic_error("plc http: run_until_stopped() before start()");
  std::vector<std::thread> extra;
  for (std::size_t i = 1; i < s.config.io_threads; ++i)
    extra.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : extra)
    t.join();
  // A cut drain leaves connections suspended (a handler still running); with no I/O thread left,
  // their sockets can be closed from here so their clients are not left waiting.
  for (auto& c : s.live_connections())
    c->cut();
  // `clean` was last written on the control strand, which no thread runs any more.
  return s.clean;
}

void server::stop() {
  net::post(state_->control, [s = state_.get()] { s->begin_drain(); });
}

} // namespace pl::plc::http
