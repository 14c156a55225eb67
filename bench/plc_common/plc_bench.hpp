#pragma once

// What the PLC benchmarks share: a throwaway `plcd --dev` (plain HTTP on loopback), the
// PlanetLab-size AdminDB dataset loaded through the API in system.multicall batches, and the
// measuring loop (client threads with keep-alive connections, calls/s, mean and p99 latency,
// reply size and client-side decode time). Header-only: each benchmark is one translation unit.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <openssl/evp.h>
#include <xmlrpc-c/base.h>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/xml.hpp>

#include "actors/xmlrpc_client.hpp"

#ifndef PL_PLCD_PATH
#define PL_PLCD_PATH "plcd"
#endif

namespace pl::bench {

using xv = xmlrpc_c::value;
using steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Interruption: SIGINT/SIGTERM end the run through the normal clean-up path.

inline std::atomic<bool> interrupted{false};

extern "C" inline void on_signal(int) {
  interrupted.store(true);
}

inline void check_interrupted() {
  if (interrupted.load())
    throw std::runtime_error("interrupted");
}

// ---------------------------------------------------------------------------------------------
// XML-RPC values.

inline xv str(const std::string& s) {
  return xmlrpc_c::value_string(s);
}

inline xv num(int n) {
  return xmlrpc_c::value_int(n);
}

inline xv strct(std::map<std::string, xv> members) {
  return xmlrpc_c::value_struct(members);
}

inline xv array(std::vector<xv> items) {
  return xmlrpc_c::value_array(items);
}

inline xv string_array(const std::vector<std::string>& items) {
  std::vector<xv> out;
  for (const auto& s : items)
    out.push_back(str(s));
  return array(out);
}

inline std::string describe(const pl::rpc_result& r) {
  if (r.is_fault())
    return "fault " + std::to_string(r.fault_code) + ": " + r.fault_string;
  return "transport error: " + r.error;
}

/// Returns the value of a successful call; throws naming `what` otherwise.
inline xv expect(const pl::rpc_result& r, const std::string& what) {
  if (!r.ok())
    throw std::runtime_error(what + ": " + describe(r));
  return r.value;
}

// ---------------------------------------------------------------------------------------------
// A temporary directory and a child process, both cleaned up on every path out.

class temp_dir {
public:
  explicit temp_dir(const std::string& prefix) {
    auto pattern = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed: " + std::string{std::strerror(errno)});
    path_ = pattern;
    // Run as root, plcd --dev runs PostgreSQL as `postgres`, which must reach the cluster inside.
    fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

class unique_fd {
public:
  explicit unique_fd(int fd = -1)
      : fd_{fd} {}
  ~unique_fd() { reset(); }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_;
};

/// A child process stopped with SIGTERM (SIGKILL after `grace`) when destroyed.
class child_process {
public:
  child_process() = default;
  ~child_process() { stop(); }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Runs `argv` with stdout on `out_fd` and stderr on `err_fd`, in its own process group (a
  /// Ctrl-C in the terminal reaches only the benchmark, which then stops the child in order).
  void start(const std::vector<std::string>& argv, int out_fd, int err_fd) {
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0)
      throw std::runtime_error("fork failed: " + std::string{std::strerror(errno)});
    if (pid_ == 0) {
      // Should the benchmark die without cleaning up, the child still gets its SIGTERM.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent)
        ::_exit(127);
      ::setpgid(0, 0);
      ::dup2(out_fd, STDOUT_FILENO);
      ::dup2(err_fd, STDERR_FILENO);
      ::execv(args[0], args.data());
      ::dprintf(STDERR_FILENO, "cannot execute %s: %s\n", args[0], std::strerror(errno));
      ::_exit(127);
    }
  }

  bool running() const { return pid_ > 0; }

  /// Returns the exit status if the process has ended (and reaps it), else nothing.
  std::optional<int> poll() {
    if (pid_ <= 0)
      return status_;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      status_ = status;
    }
    return status_;
  }

  /// Sends SIGTERM, waits up to `grace`, then SIGKILL; returns the wait status.
  std::optional<int> stop(std::chrono::seconds grace = std::chrono::seconds{60}) {
    if (pid_ <= 0)
      return status_;
    ::kill(pid_, SIGTERM);
    auto deadline = steady::now() + grace;
    while (steady::now() < deadline) {
      if (poll())
        return status_;
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    status_ = status;
    return status_;
  }

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

inline std::string tail_of(const fs::path& file, std::size_t bytes) {
  std::ifstream in{file};
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

/// Reads a child process's output (the read end of its stdout pipe) a line at a time, waiting
/// no longer than a deadline. Does not own the descriptor.
class line_reader {
public:
  explicit line_reader(int fd)
      : fd_{fd} {}

  /// The next whole line without its newline; std::nullopt once `deadline` passes or the writer
  /// closed the pipe (then `closed()` is true). Throws if the bench is interrupted.
  std::optional<std::string> next(steady::time_point deadline) {
    for (;;) {
      if (auto eol = pending_.find('\n'); eol != std::string::npos) {
        std::string line = pending_.substr(0, eol);
        pending_.erase(0, eol + 1);
        return line;
      }
      check_interrupted();
      if (closed_ || steady::now() > deadline)
        return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0)
        continue;
      char buf[4096];
      auto n = ::read(fd_, buf, sizeof buf);
      if (n <= 0)
        closed_ = true;
      else
        pending_.append(buf, static_cast<std::size_t>(n));
    }
  }

  bool closed() const { return closed_; }

private:
  int fd_;
  std::string pending_;
  bool closed_ = false;
};

/// `plcd --dev` on a fresh temporary data directory, plain HTTP on 127.0.0.1, any free port.
/// Destroying it stops plcd with SIGTERM and removes the directory.
class plcd_process {
public:
  plcd_process(const std::string& plcd, int workers, int db_pool)
      : dir_{"pl-bench-plc-admin-"} {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    out_.reset(fds[0]);
    unique_fd write_end{fds[1]};
    log_ = dir_.path() / "plcd.log";
    unique_fd log_fd{::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (log_fd.get() < 0)
      throw std::runtime_error("cannot create " + log_.string());
    proc_.start({plcd, "--dev", "--data-dir", (dir_.path() / "data").string(), "--address",
                 "127.0.0.1", "--port", "0", "--plain-http", "--workers", std::to_string(workers),
                 "--db-pool", std::to_string(db_pool), "--log-level", "warn"},
                write_end.get(), log_fd.get());
    write_end.reset();

    // Read stdout until plcd says where it listens (the first --dev run creates a cluster).
    static const std::regex password_re{R"(password: (\S+))"};
    static const std::regex url_re{R"(listening on (\S+))"};
    line_reader lines{out_.get()};
    auto deadline = steady::now() + std::chrono::seconds{180};
    while (url_.empty()) {
      auto line = lines.next(deadline);
      if (!line)
        throw failed(lines.closed() ? "plcd exited before listening"
                                    : "plcd did not start within 180 s");
      std::smatch m;
      if (std::regex_search(*line, m, password_re))
        password_ = m[1];
      if (std::regex_search(*line, m, url_re))
        url_ = m[1];
    }
    if (password_.empty())
      throw failed("plcd --dev printed no admin password");
    // Keep draining stdout so plcd never blocks on a full pipe.
    drain_ = std::thread{[fd = out_.get()] {
      char buf[4096];
      while (::read(fd, buf, sizeof buf) > 0) {
      }
    }};
  }

  ~plcd_process() {
    auto status = proc_.stop();
    if (drain_.joinable())
      drain_.join();
    if (status && !(WIFEXITED(*status) && WEXITSTATUS(*status) == 0))
      std::fprintf(stderr, "plc_admin: plcd ended with status %d; its log:\n%s\n", *status,
                   tail_of(log_, 4000).c_str());
  }
  plcd_process(const plcd_process&) = delete;
  plcd_process& operator=(const plcd_process&) = delete;

  const std::string& url() const { return url_; }
  const std::string& password() const { return password_; }
  const fs::path& data_dir() const { return dir_.path(); }

private:
  std::runtime_error failed(const std::string& why) {
    proc_.stop(std::chrono::seconds{10});
    return std::runtime_error(why + "; plcd's log:\n" + tail_of(log_, 4000));
  }

  temp_dir dir_; // declared first: removed after plcd has stopped
  fs::path log_;
  unique_fd out_;
  child_process proc_;
  std::thread drain_;
  std::string url_;
  std::string password_;
};

// ---------------------------------------------------------------------------------------------
// The dataset.

/// Returns `ssh-ed25519 <base64 blob> comment` for a freshly generated ed25519 key: the blob is
/// the OpenSSH wire encoding, string "ssh-ed25519" then the 32-byte public key.
inline std::string ed25519_public_key(const std::string& comment) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{
      EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free};
  unsigned char raw[32];
  std::size_t raw_len = sizeof raw;
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), raw, &raw_len) != 1 || raw_len != 32)
    throw std::runtime_error("cannot generate an ed25519 key");
  std::string blob;
  auto put_string = [&blob](const unsigned char* data, std::size_t n) {
    for (int shift = 24; shift >= 0; shift -= 8)
      blob.push_back(static_cast<char>((n >> shift) & 0xff));
    blob.append(reinterpret_cast<const char*>(data), n);
  };
  static const char type[] = "ssh-ed25519";
  put_string(reinterpret_cast<const unsigned char*>(type), sizeof type - 1);
  put_string(raw, raw_len);
  std::string b64(4 * ((blob.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                          reinterpret_cast<const unsigned char*>(blob.data()),
                          static_cast<int>(blob.size()));
  b64.resize(static_cast<std::size_t>(n));
  return "ssh-ed25519 " + b64 + " " + comment;
}

inline xv call_entry(const std::string& method, std::vector<xv> params) {
  return strct({{"methodName", str(method)}, {"params", array(std::move(params))}});
}

/// Sends `calls` as system.multicall batches of at most `batch` calls; returns each call's
/// value. Any fault (of the multicall or of one call in it) ends the load.
inline std::vector<xv> run_multicalls(pl::xmlrpc_client& rpc, const std::vector<xv>& calls,
                                      std::size_t batch, std::size_t* multicalls) {
  std::vector<xv> results;
  results.reserve(calls.size());
  for (std::size_t begin = 0; begin < calls.size(); begin += batch) {
    check_interrupted();
    auto end = std::min(calls.size(), begin + batch);
    std::vector<xv> chunk(calls.begin() + static_cast<std::ptrdiff_t>(begin),
                          calls.begin() + static_cast<std::ptrdiff_t>(end));
    auto answer = expect(rpc.call("system.multicall", {array(chunk)}), "system.multicall");
    ++*multicalls;
    auto entries = xmlrpc_c::value_array(answer).vectorValueValue();
    if (entries.size() != chunk.size())
      throw std::runtime_error("system.multicall returned " + std::to_string(entries.size()) +
                               " entries for " + std::to_string(chunk.size()) + " calls");
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].type() != xv::TYPE_ARRAY) {
        auto fault = xmlrpc_c::value_struct(entries[i]).cvalue();
        auto method =
            xmlrpc_c::value_string(xmlrpc_c::value_struct(chunk[i]).cvalue().at("methodName"))
                .cvalue();
        throw std::runtime_error(
            "call " + std::to_string(begin + i) + " (" + method + ") failed: fault " +
            std::to_string(xmlrpc_c::value_int(fault.at("faultCode")).cvalue()) + ": " +
            xmlrpc_c::value_string(fault.at("faultString")).cvalue());
      }
      results.push_back(xmlrpc_c::value_array(entries[i]).vectorValueValue().at(0));
    }
  }
  return results;
}

/// The login_base the dataset gives site number `site`: `<prefix><site, 4 digits>`.
inline std::string site_login_base(const std::string& prefix, int site) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%04d", prefix.c_str(), site);
  return std::string{buf};
}

struct dataset_size {
  int sites = 250;
  int persons = 1000;
  int nodes = 1000;
};

/// Loads the dataset, printing the time each class took.
inline void load_dataset(pl::xmlrpc_client& rpc, const xv& auth, const dataset_size& size,
                         const std::string& prefix, std::size_t batch, bool with_nodes) {
  std::printf("load (system.multicall, at most %zu calls each):\n", batch);
  auto timed = [&](const char* what, int objects, const std::vector<xv>& calls) {
    std::size_t multicalls = 0;
    auto start = steady::now();
    auto results = run_multicalls(rpc, calls, batch, &multicalls);
    std::chrono::duration<double> took = steady::now() - start;
    if (calls.empty())
      return results;
    std::printf("  %-58s %6d in %7.2f s  %8.0f/s  (%zu calls, %zu multicalls)\n", what, objects,
                took.count(), objects / took.count(), calls.size(), multicalls);
    std::fflush(stdout);
    return results;
  };
  auto login_base = [&](int site) { return site_login_base(prefix, site); };

  std::vector<xv> calls;
  for (int s = 0; s < size.sites; ++s)
    calls.push_back(call_entry(
        "AddSite",
        {auth, strct({{"name", str("Benchmark University " + std::to_string(s))},
                      {"abbreviated_name", str("BU" + std::to_string(s))},
                      {"login_base", str(login_base(s))},
                      {"url", str("https://www." + login_base(s) + ".example.org/")},
                      {"latitude", xmlrpc_c::value_double(-60.0 + (s * 7919 % 12000) / 100.0)},
                      {"longitude", xmlrpc_c::value_double(-170.0 + (s * 104729 % 34000) / 100.0)},
                      {"is_public", xmlrpc_c::value_boolean(true)},
                      {"max_slices", num(10)}})}));
  auto site_results = timed("sites (AddSite)", size.sites, calls);
  std::vector<int> site_ids;
  for (const auto& v : site_results)
    site_ids.push_back(xmlrpc_c::value_int(v).cvalue());

  // Each person joins one site with a role (a PI for each site's first person, else a user).
  auto email = [&](int p) {
    return "user" + std::to_string(p) + "@" + login_base(p % size.sites) + ".example.org";
  };
  calls.clear();
  for (int p = 0; p < size.persons; ++p) {
    calls.push_back(
        call_entry("AddPerson",
                   {auth, strct({{"first_name", str("First" + std::to_string(p))},
                                 {"last_name", str("Last" + std::to_string(p))},
                                 {"email", str(email(p))},
                                 {"title", str("Researcher")},
                                 {"phone", str("+1 555 01" + std::to_string(10000 + p))},
                                 {"url", str("https://www." + login_base(p % size.sites) +
                                             ".example.org/~u" + std::to_string(p))},
                                 {"bio", str("Benchmark account " + std::to_string(p) + ".")}})}));
    calls.push_back(
        call_entry("AddPersonToSite", {auth, str(email(p)), num(site_ids[p % size.sites])}));
    calls.push_back(
        call_entry("AddRoleToPerson", {auth, str(p < size.sites ? "pi" : "user"), str(email(p))}));
  }
  timed("persons (AddPerson, AddPersonToSite, AddRoleToPerson)", size.persons, calls);

  calls.clear();
  for (int p = 0; p < size.persons; ++p)
    calls.push_back(call_entry(
        "AddPersonKey",
        {auth, str(email(p)),
         strct({{"key_type", str("ssh")}, {"key", str(ed25519_public_key(email(p)))}})}));
  timed("keys (AddPersonKey, ssh-ed25519)", size.persons, calls);

  if (!with_nodes)
    return;
  calls.clear();
  for (int n = 0; n < size.nodes; ++n) {
    int site = n % size.sites;
    calls.push_back(
        call_entry("AddNode", {auth, num(site_ids[site]),
                               strct({{"hostname", str("node" + std::to_string(n / size.sites + 1) +
                                                       "." + login_base(site) + ".example.org")},
                                      {"boot_state", str("boot")},
                                      {"model", str("Dell PowerEdge R640")}})}));
  }
  timed("nodes (AddNode)", size.nodes, calls);
}

// ---------------------------------------------------------------------------------------------
// The measurement.

/// Returns the HTTP body answering `method(params)`, sent once on a fresh plain HTTP
/// connection; nothing for HTTPS (the caller then re-encodes the value it got).
inline std::optional<std::string> reply_body(const std::string& url, const std::string& method,
                                             const std::vector<xv>& params) {
  std::string error;
  auto ep = pl::parse_endpoint_url(url, &error);
  if (!ep || ep->tls)
    return std::nullopt;
  xmlrpc_c::paramList list;
  for (const auto& p : params)
    list.add(p);
  std::string body;
  xmlrpc_c::xml::generateCall(method, list, xmlrpc_dialect_i8, &body);
  std::string request =
      "POST " + ep->target + " HTTP/1.1\r\nHost: " + ep->host +
      "\r\nContent-Type: text/xml\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
      body;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(ep->host.c_str(), ep->port.c_str(), &hints, &found) != 0 || !found)
    return std::nullopt;
  unique_fd fd{::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0)};
  bool connected = fd.get() >= 0 && ::connect(fd.get(), found->ai_addr, found->ai_addrlen) == 0;
  ::freeaddrinfo(found);
  if (!connected)
    return std::nullopt;
  for (std::size_t sent = 0; sent < request.size();) {
    auto n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return std::nullopt;
    sent += static_cast<std::size_t>(n);
  }
  // Reads the header, then exactly Content-Length bytes (the server may keep the connection).
  std::string answer;
  char buf[65536];
  std::optional<std::size_t> body_start, length;
  while (!body_start || answer.size() < *body_start + *length) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0)
      return std::nullopt;
    auto n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0)
      return std::nullopt;
    answer.append(buf, static_cast<std::size_t>(n));
    if (!body_start) {
      auto header_end = answer.find("\r\n\r\n");
      if (header_end == std::string::npos)
        continue;
      if (answer.rfind("HTTP/1.1 200", 0) != 0)
        return std::nullopt;
      static const std::regex content_length{R"(\r\ncontent-length:\s*(\d+))", std::regex::icase};
      std::smatch m;
      std::string header = answer.substr(0, header_end + 2);
      if (!std::regex_search(header, m, content_length))
        return std::nullopt;
      body_start = header_end + 4;
      length = std::stoul(m[1]);
    }
  }
  return answer.substr(*body_start, *length);
}

/// Returns the median time xmlrpc-c takes to parse `xml` as a response, in milliseconds: the
/// client's share of each call, on the same CPUs as the server when both run here.
inline double decode_ms(const std::string& xml) {
  std::vector<double> times;
  for (int i = 0; i < 3; ++i) {
    auto t0 = steady::now();
    xmlrpc_c::rpcOutcome outcome;
    xmlrpc_c::xml::parseResponse(xml, &outcome);
    times.push_back(std::chrono::duration<double, std::milli>(steady::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[1];
}

struct cell {
  std::string method;
  bool few = false;
  int clients = 1;
  std::size_t rows = 0;
  long calls = 0;
  double calls_per_s = 0;
  double mean_ms = 0;
  double p99_ms = 0;
  std::size_t reply_bytes = 0;
  bool reply_reencoded = false;
  double decode_ms = 0;
};

inline pl::client_options client_options(const std::string& url, const std::string& ca_file) {
  pl::client_options o;
  o.url = url;
  o.ca_file = ca_file;
  o.user_agent = "pl-bench";
  return o;
}

/// Returns how many entries an answer carries: an array's length, a GetSlivers struct's
/// slivers, else 1.
inline std::size_t rows_of(const xv& value) {
  if (value.type() == xv::TYPE_ARRAY)
    return xmlrpc_c::value_array(value).size();
  if (value.type() == xv::TYPE_STRUCT) {
    auto members = xmlrpc_c::value_struct(value).cvalue();
    if (auto i = members.find("slivers"); i != members.end() && i->second.type() == xv::TYPE_ARRAY)
      return xmlrpc_c::value_array(i->second).size();
  }
  return 1;
}

/// The parameters of call number `n` of client thread `client`.
using params_fn = std::function<std::vector<xv>(int client, long n)>;

/// Calls `method` with `params_of(client, n)` from `clients` threads, each with its own client
/// and keep-alive connection, for `window`; every call must succeed.
inline cell measure(const pl::client_options& options, const std::string& method,
                    const params_fn& params_of, int clients, std::chrono::duration<double> window) {
  cell out;
  out.method = method;
  out.clients = clients;
  std::latch ready{clients + 1};
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::int64_t>> latencies(static_cast<std::size_t>(clients));
  std::vector<std::string> errors(static_cast<std::size_t>(clients));
  std::vector<std::size_t> rows(static_cast<std::size_t>(clients), 0);
  std::optional<xv> sample;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      auto& lat = latencies[static_cast<std::size_t>(i)];
      auto& error = errors[static_cast<std::size_t>(i)];
      lat.reserve(1 << 16);
      pl::xmlrpc_client rpc{options};
      // Warm-up: opens the connection; its answer gives the row count.
      long n = 0;
      auto first = rpc.call(method, params_of(i, n++));
      if (first.ok()) {
        rows[static_cast<std::size_t>(i)] = rows_of(first.value);
        if (i == 0)
          sample = first.value;
      } else {
        error = describe(first);
      }
      ready.arrive_and_wait();
      if (!error.empty())
        return;
      while (!stop.load(std::memory_order_relaxed)) {
        auto params = params_of(i, n++);
        auto t0 = steady::now();
        auto r = rpc.call(method, params);
        auto t1 = steady::now();
        if (!r.ok()) {
          error = describe(r);
          return;
        }
        lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
      }
    });
  ready.arrive_and_wait();
  auto start = steady::now();
  // The benchmark's own clock: waiting out the measuring window is the point here.
  while (steady::now() - start < window && !interrupted.load())
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  stop = true;
  for (auto& t : threads)
    t.join();
  std::chrono::duration<double> elapsed = steady::now() - start;
  check_interrupted();
  for (const auto& e : errors)
    if (!e.empty())
      throw std::runtime_error(method + ": " + e);

  std::vector<std::int64_t> all;
  for (const auto& l : latencies)
    all.insert(all.end(), l.begin(), l.end());
  out.rows = rows[0];
  out.calls = static_cast<long>(all.size());
  out.calls_per_s = static_cast<double>(all.size()) / elapsed.count();
  if (!all.empty()) {
    double sum = 0;
    for (auto ns : all)
      sum += static_cast<double>(ns);
    out.mean_ms = sum / static_cast<double>(all.size()) / 1e6;
    auto k = std::min(all.size() - 1, (all.size() * 99) / 100);
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end());
    out.p99_ms = static_cast<double>(all[k]) / 1e6;
  }
  std::string xml;
  if (auto body = reply_body(options.url, method, params_of(0, 0))) {
    xml = std::move(*body);
  } else if (sample) {
    xmlrpc_c::xml::generateResponse(xmlrpc_c::rpcOutcome{*sample}, xmlrpc_dialect_i8, &xml);
    out.reply_reencoded = true;
  }
  out.reply_bytes = xml.size();
  if (!xml.empty())
    out.decode_ms = decode_ms(xml);
  return out;
}

/// The options every PLC benchmark takes: which plcd to start and how to measure.
struct run_options {
  std::string plcd = PL_PLCD_PATH;
  double seconds = 2.0;
  std::string clients = "1,8";
  int workers = 4;
  int db_pool = 8;
};

inline void add_run_options(CLI::App& app, run_options& o) {
  app.add_option("--plcd", o.plcd, "plcd binary to start with --dev")->capture_default_str();
  app.add_option("--seconds", o.seconds, "measuring time per cell")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--clients", o.clients, "comma-separated client thread counts")
      ->capture_default_str();
  app.add_option("--workers", o.workers, "worker threads of the started plcd")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--db-pool", o.db_pool, "database connections of the started plcd")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

/// Readies the process for a run: xmlrpc-c's process-wide XML limit (512 KiB by default, which
/// a GetPersons of 1,000 persons exceeds) raised to pl::xmlrpc_client's response bound, SIGPIPE
/// ignored, and SIGINT/SIGTERM ending the run through the normal clean-up path.
inline void prepare_process() {
  xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, pl::client_options{}.max_response_bytes);
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

/// The same with the same parameters on every call.
inline cell measure(const pl::client_options& options, const std::string& method,
                    const std::vector<xv>& params, int clients,
                    std::chrono::duration<double> window) {
  return measure(
      options, method, [&params](int, long) { return params; }, clients, window);
}

inline std::vector<int> parse_list(const std::string& list) {
  std::vector<int> out;
  std::stringstream ss{list};
  std::string item;
  while (std::getline(ss, item, ',')) {
    int n = std::stoi(item);
    if (n < 1)
      throw std::invalid_argument("client counts must be positive");
    out.push_back(n);
  }
  if (out.empty())
    throw std::invalid_argument("no client counts");
  return out;
}

inline std::string random_prefix() {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string p = "b";
  for (int i = 0; i < 5; ++i)
    p.push_back(alphabet[rd() % 36]);
  return p;
}

} // namespace pl::bench
