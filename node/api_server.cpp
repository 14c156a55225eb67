#include "node/api_server.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <system_error>
#include <thread>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace pl::node {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;

bool valid_sliver_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name == "." || name == ".." || name == "root")
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

namespace {

/// Closes a socket of either protocol, ignoring errors (it may be closed already).
template <class Socket>
void close_socket(Socket& s) {
  error_code ec;
  s.shutdown(Socket::shutdown_both, ec);
  s.close(ec);
}

/// Keeps what one listening socket shares with its connections.
struct listener_base {
  virtual ~listener_base() = default;
  virtual void close() = 0;
  /// Counts open connections.
  std::atomic<std::size_t> active{0};
};

} // namespace

namespace detail {

struct api_server_state {
  api_server_state(api_server_config c, api_handler h)
      : cfg(std::move(c))
      , handler(std::move(h))
      , workers(std::max<std::size_t>(1, cfg.worker_threads)) {}

  api_server_config cfg;
  api_handler handler;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  net::thread_pool workers;
  std::vector<std::thread> io_threads;
  std::uint16_t port = 0;

  mutable std::mutex mutex;
  bool started = false;
  bool stopped = false;
  std::shared_ptr<listener_base> tcp;
  std::map<std::string, std::shared_ptr<listener_base>> slivers;
};

} // namespace detail

namespace {

using server_state = detail::api_server_state;

/// Serves HTTP/1.1 with keep-alive on one accepted socket; one request at a time.
template <class Socket>
class connection : public std::enable_shared_from_this<connection<Socket>> {
public:
  connection(Socket sock, server_state& st, api_caller caller, std::shared_ptr<listener_base> owner)
      : sock_(std::move(sock))
      , timer_(sock_.get_executor())
      , st_(st)
      , caller_(std::move(caller))
      , owner_(std::move(owner)) {}

  ~connection() { owner_->active.fetch_sub(1); }

  void start() { read(); }

  /// Closes the connection from any thread.
  void close_later() {
    net::post(sock_.get_executor(), [self = this->shared_from_this()] { self->close(); });
  }

private:
  void arm_timer() {
    timer_.expires_after(st_.cfg.idle_timeout);
    timer_.async_wait([weak = this->weak_from_this()](error_code ec) {
      if (ec)
        return;
      if (auto self = weak.lock())
        self->close();
    });
  }

  void read() {
    if (closed_)
      return;
    parser_.emplace();
    parser_->body_limit(st_.cfg.max_body_bytes);
    parser_->header_limit(16 * 1024);
    arm_timer();
    http::async_read(
        sock_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    timer_.cancel();
    if (closed_)
      return;
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == net::error::eof || ec == net::error::connection_reset) {
      close();
      return;
    }
    if (ec == http::error::body_limit) {
      respond(http::status::payload_too_large, "request body too large\n", "text/plain", false);
      return;
    }
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category())
        respond(http::status::bad_request, "malformed HTTP request: " + ec.message() + "\n",
                "text/plain", false);
      else
        close();
      return;
    }
    auto& req = parser_->get();
    bool keep = req.keep_alive();
    std::string_view target = req.target();
    target = target.substr(0, target.find('?'));
    if (req.method() != http::verb::post) {
      respond(http::status::method_not_allowed, "the node manager API takes XML-RPC by POST\n",
              "text/plain", keep, true);
      return;
    }
    if (target != "/" && target != "/RPC2") {
      respond(http::status::not_found, "the node manager API is served at / (or /RPC2)\n",
              "text/plain", keep);
      return;
    }
    auto body = std::make_shared<std::string>(std::move(req.body()));
    net::post(st_.workers, [self = this->shared_from_this(), body, keep] {
      std::string answer;
      bool failed = false;
      try {
        answer = self->st_.handler(*body, self->caller_);
      } catch (const std::exception& e) {
        spdlog::error("node.api event=handler_failed caller={} what={}", self->caller_.name(),
                      e.what());
        failed = true;
      }
      net::post(self->sock_.get_executor(), [self, answer = std::move(answer), failed, keep] {
        if (failed)
          self->respond(http::status::internal_server_error, "internal error\n", "text/plain",
                        false);
        else
          self->respond(http::status::ok, answer, "text/xml", keep);
      });
    });
  }

  void respond(http::status status, std::string body, std::string_view type, bool keep,
               bool allow_post = false) {
    if (closed_)
      return;
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::server, "planetlab-nodemgr");
    res->set(http::field::content_type, type);
    if (allow_post)
      res->set(http::field::allow, "POST");
    res->keep_alive(keep);
    res->body() = std::move(body);
    res->prepare_payload();
    arm_timer();
    http::async_write(sock_, *res,
                      [self = this->shared_from_this(), res, keep](error_code ec, std::size_t) {
                        self->timer_.cancel();
                        if (ec || !keep)
                          self->close();
                        else
                          self->read();
                      });
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    timer_.cancel();
    close_socket(sock_);
  }

  Socket sock_;
  net::steady_timer timer_;
  server_state& st_;
  api_caller caller_;
  std::shared_ptr<listener_base> owner_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool closed_ = false;
};

/// Accepts connections on one socket; every call on them comes from `caller`.
template <class Protocol>
class listener : public listener_base, public std::enable_shared_from_this<listener<Protocol>> {
public:
  using acceptor_type = typename Protocol::acceptor;
  using socket_type = typename Protocol::socket;
  using connection_type = connection<socket_type>;

  listener(server_state& st, acceptor_type acc, api_caller caller)
      : st_(st)
      , acceptor_(std::move(acc))
      , caller_(std::move(caller)) {}

  void start() { accept(); }

  void close() override {
    net::post(acceptor_.get_executor(), [self = this->shared_from_this()] {
      error_code ec;
      self->acceptor_.close(ec);
      std::vector<std::weak_ptr<connection_type>> conns;
      {
        std::lock_guard lock{self->mutex_};
        conns.swap(self->connections_);
      }
      for (auto& w : conns)
        if (auto c = w.lock())
          c->close_later();
    });
  }

private:
  void accept() {
    acceptor_.async_accept(net::make_strand(st_.ioc),
                           [self = this->shared_from_this()](error_code ec, socket_type sock) {
                             if (ec == net::error::operation_aborted || !self->acceptor_.is_open())
                               return;
                             if (!ec)
                               self->admit(std::move(sock));
                             else
                               spdlog::warn("node.api event=accept_failed caller={} error={}",
                                            self->caller_.name(), ec.message());
                             self->accept();
                           });
  }

  void admit(socket_type sock) {
    if (active.load() >= st_.cfg.max_connections) {
      spdlog::warn("node.api event=too_many_connections caller={} limit={}", caller_.name(),
                   st_.cfg.max_connections);
      close_socket(sock);
      return;
    }
    if constexpr (std::is_same_v<Protocol, net::local::stream_protocol>) {
      peer_credentials peer;
      ucred cred{};
      socklen_t len = sizeof cred;
      if (::getsockopt(sock.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        peer = {cred.pid, cred.uid, cred.gid};
      } else {
        spdlog::warn("node.api event=peer_credentials_failed sliver={}", caller_.sliver);
        close_socket(sock);
        return;
      }
      if (st_.cfg.peer_check && !st_.cfg.peer_check(caller_.sliver, peer)) {
        spdlog::warn("node.api event=peer_refused sliver={} pid={} uid={}", caller_.sliver,
                     peer.pid, peer.uid);
        close_socket(sock);
        return;
      }
    }
    active.fetch_add(1);
    auto conn =
        std::make_shared<connection_type>(std::move(sock), st_, caller_, this->shared_from_this());
    {
      std::lock_guard lock{mutex_};
      std::erase_if(connections_, [](const auto& w) { return w.expired(); });
      connections_.push_back(conn);
    }
    conn->start();
  }

  server_state& st_;
  acceptor_type acceptor_;
  api_caller caller_;
  std::mutex mutex_;
  std::vector<std::weak_ptr<connection_type>> connections_;
};

[[noreturn]] void fail(const std::string& what, const error_code& ec) {
  throw std::system_error(ec, what);
}

} // namespace

api_server::api_server(api_server_config cfg, api_handler handler)
    : state_(std::make_unique<detail::api_server_state>(std::move(cfg), std::move(handler))) {}

api_server::~api_server() {
  stop();
}

void api_server::start() {
  auto& st = *state_;
  std::lock_guard lock{st.mutex};
  if (st.started)
    return;
  std::error_code fec;
  std::filesystem::create_directories(st.cfg.run_dir, fec);
  if (fec)
    throw std::system_error(fec, "cannot create " + st.cfg.run_dir.string());
  if (st.cfg.tcp_port) {
    error_code ec;
    auto addr = net::ip::make_address(st.cfg.tcp_address, ec);
    if (ec)
      fail("local API: bad address '" + st.cfg.tcp_address + "'", ec);
    net::ip::tcp::acceptor acc{net::make_strand(st.ioc)};
    net::ip::tcp::endpoint ep{addr, *st.cfg.tcp_port};
    acc.open(ep.protocol(), ec);
    if (!ec)
      acc.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec)
      acc.bind(ep, ec);
    if (!ec)
      acc.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
      fail("local API: cannot listen on " + st.cfg.tcp_address + ":" +
               std::to_string(*st.cfg.tcp_port),
           ec);
    st.port = acc.local_endpoint().port();
    auto l =
        std::make_shared<listener<net::ip::tcp>>(st, std::move(acc), api_caller::root_context());
    l->start();
    st.tcp = l;
  }
  st.work.emplace(st.ioc.get_executor());
  for (std::size_t i = 0; i < std::max<std::size_t>(1, st.cfg.io_threads); ++i)
    st.io_threads.emplace_back([&st] { st.ioc.run(); });
  st.started = true;
  spdlog::info("node.api event=listening tcp={}:{} run_dir={}", st.cfg.tcp_address, st.port,
               st.cfg.run_dir.string());
}

std::uint16_t api_server::tcp_port() const {
  std::lock_guard lock{state_->mutex};
  return state_->port;
}

std::filesystem::path api_server::socket_path(const std::string& name) const {
  return state_->cfg.run_dir / name / state_->cfg.socket_name;
}

outcome<std::filesystem::path> api_server::add_sliver(const std::string& name) {
  auto& st = *state_;
  if (!valid_sliver_name(name))
    return failure{"'" + name + "' is not a sliver name"};
  auto dir = st.cfg.run_dir / name;
  auto path = dir / st.cfg.socket_name;
  if (path.native().size() >= sizeof(sockaddr_un{}.sun_path))
    return failure{"the socket path " + path.string() + " is too long for a unix socket"};
  std::lock_guard lock{st.mutex};
  if (st.stopped)
    return failure{"the local API server is stopped"};
  if (st.slivers.count(name))
    return path;
  std::error_code fec;
  std::filesystem::create_directories(dir, fec);
  if (fec)
    return failure{"cannot create " + dir.string() + ": " + fec.message()};
  if (::chmod(dir.c_str(), 0755) != 0)
    return failure{"cannot chmod " + dir.string() + ": " + std::strerror(errno)};
  struct stat sb {};
  if (::lstat(path.c_str(), &sb) == 0) {
    if (!S_ISSOCK(sb.st_mode))
      return failure{path.string() + " exists and is not a socket"};
    if (::unlink(path.c_str()) != 0)
      return failure{"cannot remove the stale socket " + path.string() + ": " +
                     std::strerror(errno)};
  }
  using proto = net::local::stream_protocol;
  error_code ec;
  proto::acceptor acc{net::make_strand(st.ioc)};
  proto::endpoint ep{path.string()};
  acc.open(ep.protocol(), ec);
  if (!ec)
    acc.bind(ep, ec);
  if (!ec)
    acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return failure{"cannot listen on " + path.string() + ": " + ec.message()};
  if (::chmod(path.c_str(), 0666) != 0) {
    auto why = std::string{std::strerror(errno)};
    ::unlink(path.c_str());
    return failure{"cannot chmod " + path.string() + ": " + why};
  }
  auto l = std::make_shared<listener<proto>>(st, std::move(acc), api_caller::of_sliver(name));
  l->start();
  st.slivers.emplace(name, l);
  spdlog::info("node.api event=sliver_socket sliver={} path={}", name, path.string());
  return path;
}

void api_server::remove_sliver(const std::string& name) {
  auto& st = *state_;
  std::shared_ptr<listener_base> l;
  {
    std::lock_guard lock{st.mutex};
    auto i = st.slivers.find(name);
    if (i == st.slivers.end())
      return;
    l = std::move(i->second);
    st.slivers.erase(i);
  }
  l->close();
  auto dir = st.cfg.run_dir / name;
  std::error_code fec;
  std::filesystem::remove(dir / st.cfg.socket_name, fec);
  std::filesystem::remove(dir, fec);
  spdlog::info("node.api event=sliver_socket_removed sliver={}", name);
}

std::vector<std::pair<std::string, std::string>>
api_server::sync_slivers(const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, std::string>> failed;
  for (const auto& have : slivers())
    if (std::find(names.begin(), names.end(), have) == names.end())
      remove_sliver(have);
  for (const auto& name : names)
    if (auto r = add_sliver(name); !r)
      failed.emplace_back(name, r.error());
  return failed;
}

std::vector<std::string> api_server::slivers() const {
  std::lock_guard lock{state_->mutex};
  std::vector<std::string> out;
  for (const auto& [name, l] : state_->slivers)
    out.push_back(name);
  return out;
}

void api_server::stop() {
  auto& st = *state_;
  std::map<std::string, std::shared_ptr<listener_base>> slivers;
  std::shared_ptr<listener_base> tcp;
  {
    std::lock_guard lock{st.mutex};
    if (st.stopped)
      return;
    st.stopped = true;
    slivers.swap(st.slivers);
    tcp = std::move(st.tcp);
  }
  if (tcp)
    tcp->close();
  for (auto& [name, l] : slivers) {
    l->close();
    // The directory stays: running slivers have it bind-mounted, and the
    // next nodemgr's socket must appear in that same directory (a new one
    // would be invisible to them).
    std::error_code fec;
    std::filesystem::remove(st.cfg.run_dir / name / st.cfg.socket_name, fec);
  }
  // Calls in progress finish (each is bounded by the node manager timeout).
  st.workers.join();
  st.work.reset();
  st.ioc.stop();
  for (auto& t : st.io_threads)
    t.join();
  st.io_threads.clear();
}

} // namespace pl::node
