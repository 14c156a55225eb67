// Measures XML-RPC calls per second of `system.listMethods` over keep-alive connections:
// PLC's HTTP server (plain and TLS) against xmlrpc-c's Abyss server, both serving PLC's registry,
// in the same run. With --url it measures a running plcd instead of an in-process server.
//
//   bench_xmlrpc_throughput [--seconds 2] [--connections 1,8] [--url
//   https://127.0.0.1:8443/PLCAPI/]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <latch>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/registry.hpp>

#include "actors/clock.hpp"
#include "plc/api/dispatcher.hpp"
#include <xmlrpc-c/server_abyss.hpp>

#include "plc/http/metrics.hpp"
#include "plc/http/server.hpp"

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using steady = std::chrono::steady_clock;

constexpr const char* list_methods_call =
    "<?xml version=\"1.0\"?>\r\n"
    "<methodCall><methodName>system.listMethods</methodName><params></params></methodCall>\r\n";

// ---------------------------------------------------------------------------------------------
// The registry both servers serve: PLC's own, exactly as plcd builds it.

/// Builds PLC's API dispatcher with every method plcd registers. `system.listMethods` needs
/// no database, so none is attached; both servers serve this dispatcher's registry.
std::unique_ptr<pl::plc::api::dispatcher> make_api() {
  static pl::system_clock_source clock;
  auto api = std::make_unique<pl::plc::api::dispatcher>(pl::plc::api::services{nullptr, &clock});
  pl::plc::api::add_auth_methods(*api);
  return api;
}

// ---------------------------------------------------------------------------------------------
// Servers.

/// Writes a throwaway self-signed EC P-256 certificate into a temporary directory.
class throwaway_cert {
public:
  throwaway_cert() {
    auto pattern = (std::filesystem::temp_directory_path() / "xmlrpc_bench_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_EC_gen("P-256"), EVP_PKEY_free};
    std::unique_ptr<X509, decltype(&X509_free)> x509{X509_new(), X509_free};
    auto* name = x509 ? X509_get_subject_name(x509.get()) : nullptr;
    bool ok = key && x509 && X509_set_version(x509.get(), 2) == 1 &&
              ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), 1) == 1 &&
              X509_gmtime_adj(X509_getm_notBefore(x509.get()), -60) != nullptr &&
              X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600) != nullptr &&
              X509_set_pubkey(x509.get(), key.get()) == 1 &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                         reinterpret_cast<const unsigned char*>("localhost"), -1,
                                         -1, 0) == 1 &&
              X509_set_issuer_name(x509.get(), name) == 1 &&
              X509_sign(x509.get(), key.get(), EVP_sha256()) > 0;
    if (!ok ||
        !write(key_file(),
               [&](BIO* b) {
                 return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr,
                                                 nullptr);
               }) ||
        !write(cert_file(), [&](BIO* b) { return PEM_write_bio_X509(b, x509.get()); }))
      throw std::runtime_error("cannot create a self-signed certificate");
  }
  ~throwaway_cert() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string cert_file() const { return (dir_ / "cert.pem").string(); }
  std::string key_file() const { return (dir_ / "key.pem").string(); }

private:
  template <class F>
  static bool write(const std::string& path, F f) {
    std::unique_ptr<BIO, decltype(&BIO_free)> out{BIO_new_file(path.c_str(), "w"), BIO_free};
    return out && f(out.get()) == 1;
  }
  std::filesystem::path dir_;
};

/// Runs PLC's HTTP server on a thread, answering through `registry.processCall`.
class plc_server {
public:
  plc_server(const xmlrpc_c::registry& registry, const throwaway_cert* cert, std::size_t workers,
             std::size_t io_threads)
      : server_{config(cert, workers, io_threads),
                [&registry](std::string_view body, const pl::plc::http::request_info&) {
                  std::string out;
                  registry.processCall(std::string{body}, &out);
                  return out;
                },
                metrics_} {
    server_.start();
    thread_ = std::thread{[this] { server_.run_until_stopped(); }};
  }
  ~plc_server() {
    server_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_.port(); }

private:
  static pl::plc::http::server_config config(const throwaway_cert* cert, std::size_t workers,
                                             std::size_t io_threads) {
    pl::plc::http::server_config c;
    c.tls = cert != nullptr;
    if (cert) {
      c.cert_pem_file = cert->cert_file();
      c.key_pem_file = cert->key_file();
    }
    c.worker_threads = workers;
    c.io_threads = io_threads;
    c.handle_signals = false;
    return c;
  }
  pl::plc::http::metrics_registry metrics_;
  pl::plc::http::server server_;
  std::thread thread_;
};

/// Runs xmlrpc-c's Abyss server (plain HTTP only in Debian) on a socket bound to a free port.
class abyss_server {
public:
  explicit abyss_server(const xmlrpc_c::registry& registry) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0)
      throw std::runtime_error("abyss: socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd_);
      throw std::runtime_error("abyss: cannot bind 127.0.0.1:0");
    }
    port_ = ntohs(addr.sin_port);
    server_.emplace(xmlrpc_c::serverAbyss::constrOpt()
                        .registryP(&registry)
                        .socketFd(fd_)
                        .uriPath("/RPC2")
                        .maxConn(64)
                        .keepaliveTimeout(60)
                        .keepaliveMaxConn(1000000)
                        .serverOwnsSignals(false)
                        .dontAdvertise(true));
    thread_ = std::thread{[this] { server_->run(); }};
  }
  ~abyss_server() {
    server_->terminate();
    thread_.join();
    server_.reset();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::optional<xmlrpc_c::serverAbyss> server_;
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------
// The client.

struct target {
  std::string host = "127.0.0.1";
  std::string port;
  std::string path;
  bool tls = false;
};

/// Parses http(s)://host[:port][/path].
target parse_url(const std::string& url) {
  static const std::regex pattern{R"(^(https?)://([^/:]+)(?::(\d+))?(/.*)?$)"};
  std::smatch m;
  if (!std::regex_match(url, m, pattern))
    throw std::invalid_argument("not an http(s) URL: " + url);
  target t;
  t.tls = m[1] == "https";
  t.host = m[2];
  t.port = m[3].matched ? m[3].str() : (t.tls ? "443" : "80");
  t.path = m[4].matched ? m[4].str() : "/";
  return t;
}

/// Makes calls on one keep-alive connection until `stop`; counts them.
class connection {
public:
  connection(const target& t, ssl::context& ctx)
      : stream_{ioc_, ctx} {
    tcp::resolver resolver{ioc_};
    net::connect(beast::get_lowest_layer(stream_).socket(), resolver.resolve(t.host, t.port));
    beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay{true});
    if (t.tls)
      stream_.handshake(ssl::stream_base::client);
    tls_ = t.tls;
    // Serialised once: the client should cost the shared CPUs as little as possible.
    request_ = "POST " + t.path + " HTTP/1.1\r\nHost: " + t.host +
               "\r\nUser-Agent: xmlrpc_throughput\r\nContent-Type: text/xml\r\n"
               "Content-Length: " +
               std::to_string(std::string_view{list_methods_call}.size()) + "\r\n\r\n" +
               list_methods_call;
  }

  /// Makes one call; throws unless it gets a 200 with a non-fault XML-RPC response.
  void call() {
    bhttp::response_parser<bhttp::string_body> parser;
    if (tls_) {
      net::write(stream_, net::buffer(request_));
      bhttp::read(stream_, buffer_, parser);
    } else {
      auto& socket = beast::get_lowest_layer(stream_).socket();
      net::write(socket, net::buffer(request_));
      bhttp::read(socket, buffer_, parser);
    }
    const auto& res = parser.get();
    if (res.result() != bhttp::status::ok || res.body().find("<fault>") != std::string::npos ||
        res.body().find("system.listMethods") == std::string::npos)
      throw std::runtime_error("unexpected answer: " + std::to_string(res.result_int()) + " " +
                               res.body().substr(0, 200));
    if (!res.keep_alive())
      throw std::runtime_error("server closed the keep-alive connection");
  }

private:
  net::io_context ioc_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  bool tls_ = false;
  std::string request_;
  beast::flat_buffer buffer_;
};

/// Returns calls per second over `connections` connections, each on its own thread.
double measure(const target& t, int connections, std::chrono::duration<double> duration) {
  ssl::context ctx{ssl::context::tls_client};
  ctx.set_verify_mode(ssl::verify_none); // a benchmark against our own throwaway certificate
  std::latch ready{connections + 1};
  std::atomic<bool> stop{false};
  std::vector<long> counts(connections, 0);
  std::vector<std::exception_ptr> errors(connections);
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i)
    threads.emplace_back([&, i] {
      std::optional<connection> c;
      try {
        c.emplace(t, ctx);
        c->call(); // warm up: TLS session, server-side allocations
      } catch (...) {
        errors[i] = std::current_exception();
      }
      ready.arrive_and_wait();
      if (errors[i])
        return;
      try {
        while (!stop.load(std::memory_order_relaxed)) {
          c->call();
          ++counts[i];
        }
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  ready.arrive_and_wait();
  auto start = steady::now();
  // The benchmark's own clock: waiting for the measurement window is the point here.
  std::this_thread::sleep_for(duration);
  stop = true;
  for (auto& th : threads)
    th.join();
  std::chrono::duration<double> elapsed = steady::now() - start;
  for (auto& e : errors)
    if (e)
      std::rethrow_exception(e);
  long total = 0;
  for (long n : counts)
    total += n;
  return static_cast<double>(total) / elapsed.count();
}

std::vector<int> parse_connections(const std::string& list) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    auto item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    int n = std::stoi(item);
    if (n < 1)
      throw std::invalid_argument("connections must be positive");
    out.push_back(n);
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return out;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  auto n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"XML-RPC throughput: PLC's HTTP server vs xmlrpc-c Abyss (system.listMethods)"};
  double seconds = 2.4;
  int rounds = 4;
  std::string connections_list = "1,8";
  std::string url;
  std::size_t workers = 4;
  app.add_option("--seconds", seconds, "measuring time per cell, split over the rounds")
      ->check(CLI::PositiveNumber);
  app.add_option("--rounds", rounds, "interleaved rounds (medians are reported)")
      ->check(CLI::PositiveNumber);
  app.add_option("--connections", connections_list, "comma-separated connection counts");
  app.add_option("--url", url, "measure a running plcd at this URL instead of in-process");
  app.add_option("--workers", workers, "worker threads of the in-process PLC server");
  std::size_t io_threads = 1;
  app.add_option("--io-threads", io_threads, "I/O threads of the in-process PLC server");
  std::string only;
  app.add_option("--only", only, "measure one server alone, for profiling")
      ->check(CLI::IsMember({"abyss", "plcd-http", "plcd-https"}));
  CLI11_PARSE(app, argc, argv);

  // Abyss writes to sockets the client may already have closed.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    auto connection_counts = parse_connections(connections_list);
    std::chrono::duration<double> window{seconds / rounds};
    auto api = make_api();
    const xmlrpc_c::registry* registry = &api->registry();

    std::vector<std::pair<std::string, target>> targets;
    std::optional<throwaway_cert> cert;
    std::optional<plc_server> plain, secure;
    abyss_server abyss{*registry};
    targets.push_back({"abyss (xmlrpc-c)", {"127.0.0.1", std::to_string(abyss.port()), "/RPC2"}});
    if (url.empty()) {
      cert.emplace();
      plain.emplace(*registry, nullptr, workers, io_threads);
      secure.emplace(*registry, &*cert, workers, io_threads);
      targets.push_back({"plcd", {"127.0.0.1", std::to_string(plain->port()), "/PLCAPI/"}});
      targets.push_back({"plcd", {"127.0.0.1", std::to_string(secure->port()), "/PLCAPI/", true}});
    } else {
      targets.push_back({"plcd " + url, parse_url(url)});
    }

    auto measured = [&](std::size_t t) {
      static const char* const keys[] = {"abyss", "plcd-http", "plcd-https"};
      return only.empty() || (url.empty() && only == keys[t]) || (!url.empty() && t == 1);
    };

    // Rounds interleave the servers so a noisy neighbour on the shared CPUs hits all of them
    // alike; each ratio compares measurements taken back to back.
    auto cells = connection_counts.size();
    std::vector<std::vector<double>> rates(targets.size() * cells);
    std::vector<std::vector<double>> ratios(targets.size() * cells);
    for (int r = 0; r < rounds; ++r)
      for (std::size_t c = 0; c < cells; ++c) {
        double baseline = 0;
        for (std::size_t t = 0; t < targets.size(); ++t) {
          if (!measured(t))
            continue;
          double rate = measure(targets[t].second, connection_counts[c], window);
          if (t == 0)
            baseline = rate;
          rates[t * cells + c].push_back(rate);
          if (baseline > 0)
            ratios[t * cells + c].push_back(rate / baseline);
        }
      }

    std::printf("xmlrpc_throughput: system.listMethods over keep-alive connections, "
                "%d rounds of %.2f s per cell, medians\n\n",
                rounds, window.count());
    std::printf("%-40s %-6s %11s %12s %10s\n", "server", "proto", "connections", "calls/s",
                "vs abyss");
    for (std::size_t t = 0; t < targets.size(); ++t)
      for (std::size_t c = 0; c < cells; ++c) {
        if (!measured(t))
          continue;
        std::printf("%-40s %-6s %11d %12.0f", targets[t].first.c_str(),
                    targets[t].second.tls ? "https" : "http", connection_counts[c],
                    median(rates[t * cells + c]));
        if (ratios[t * cells + c].empty())
          std::printf(" %10s\n", "-");
        else
          std::printf(" %9.2fx\n", median(ratios[t * cells + c]));
      }
    std::printf(
        "\nDebian's Abyss has no TLS: https rows are compared with Abyss over plain HTTP.\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xmlrpc_throughput: %s\n", e.what());
    return 1;
  }
  return 0;
}
