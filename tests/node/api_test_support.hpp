#pragma once

// Shared by the local API suites: a recording fake of the node_manager actor
// (typed, on a real actor system), a blocking XML-RPC client over TCP or a
// unix socket, and a scratch directory.

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <caf/actor_system.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/xml.hpp>

#include "actors/errors.hpp"
#include "actors/node_manager_actor.hpp"
#include "tests/node/scratch.hpp"

namespace pl::node::test {

/// Holds what the fake node manager knows and what it was asked; shared with
/// the test, guarded by `mutex`.
struct fake_world {
  std::mutex mutex;
  std::map<std::string, sliver_spec> slivers;
  std::map<std::string, rspec> effective;
  std::map<std::string, std::vector<loan>> loans;
  /// op name (`create`, `start`, `redeem`, ...) -> the error it answers with.
  std::map<std::string, caf::error> failures;
  /// Ops that never answer.
  std::vector<std::string> silent;
  /// One line per local-API message received: `op caller target`.
  std::vector<std::string> calls;
  std::vector<ticket> redeemed;

  void add(sliver_spec s) {
    std::lock_guard lock{mutex};
    slivers[s.name] = std::move(s);
  }
  void fail(const std::string& op, caf::error err) {
    std::lock_guard lock{mutex};
    failures[op] = std::move(err);
  }
  void clear_failures() {
    std::lock_guard lock{mutex};
    failures.clear();
  }
  std::vector<std::string> take_calls() {
    std::lock_guard lock{mutex};
    auto out = std::move(calls);
    calls.clear();
    return out;
  }
  std::vector<ticket> take_redeemed() {
    std::lock_guard lock{mutex};
    auto out = std::move(redeemed);
    redeemed.clear();
    return out;
  }
};

struct fake_nm_state {
  static inline const char* name = "fake_node_manager";
  std::shared_ptr<fake_world> world;
  /// Promises of silent ops, kept so they are never answered.
  std::vector<caf::response_promise> parked;
};

using fake_nm_actor = node_manager_actor::stateful_pointer<fake_nm_state>;

/// Records `op caller target` and returns the configured failure, if any.
inline std::optional<caf::error> note(fake_nm_actor self, const std::string& op,
                                      const std::string& caller, const std::string& target) {
  auto& w = *self->state.world;
  std::lock_guard lock{w.mutex};
  w.calls.push_back(op + " " + caller + " " + target);
  if (auto i = w.failures.find(op); i != w.failures.end())
    return i->second;
  return std::nullopt;
}

inline bool silent(fake_nm_actor self, const std::string& op) {
  auto& w = *self->state.world;
  std::lock_guard lock{w.mutex};
  return std::find(w.silent.begin(), w.silent.end(), op) != w.silent.end();
}

/// Answers like a node manager that does whatever it is asked, without
/// checking who asks (the local API must have checked).
inline node_manager_actor::behavior_type fake_nm(fake_nm_actor self,
                                                 std::shared_ptr<fake_world> world) {
  self->state.world = std::move(world);
  auto ok_op = [self](const char* op) {
    return [self, op](const std::string& caller,
                      const std::string& target) -> caf::result<caf::ok_atom> {
      if (silent(self, op)) {
        auto rp = self->make_response_promise();
        self->state.parked.push_back(rp);
        return caf::delegated<caf::ok_atom>{};
      }
      if (auto err = note(self, op, caller, target))
        return *err;
      return caf::ok_atom_v;
    };
  };
  return {
      [](snapshot_atom, sliver_snapshot&) -> caf::result<caf::ok_atom> { return caf::ok_atom_v; },
      [](revoke_atom, std::string&, std::int64_t) -> caf::result<caf::ok_atom> {
        return caf::ok_atom_v;
      },
      [self](status_atom) -> caf::result<node_status> {
        node_status st;
        st.node_id = 7;
        auto& w = *self->state.world;
        std::lock_guard lock{w.mutex};
        for (const auto& [name, s] : w.slivers)
          st.slivers.push_back({name, sliver_phase::running});
        return st;
      },
      [self](redeem_atom, ticket& t) -> caf::result<caf::ok_atom> {
        if (auto err = note(self, "redeem", "-", t.slice_name))
          return *err;
        auto& w = *self->state.world;
        std::lock_guard lock{w.mutex};
        w.redeemed.push_back(t);
        return caf::ok_atom_v;
      },
      [f = ok_op("create")](create_atom, std::string& c, std::string& t) { return f(c, t); },
      [f = ok_op("destroy")](destroy_atom, std::string& c, std::string& t) { return f(c, t); },
      [f = ok_op("start")](start_atom, std::string& c, std::string& t) { return f(c, t); },
      [f = ok_op("stop")](stop_atom, std::string& c, std::string& t) { return f(c, t); },
      [self](rspec_atom, std::string& c, std::string& t) -> caf::result<rspec> {
        if (auto err = note(self, "rspec", c, t))
          return *err;
        auto& w = *self->state.world;
        std::lock_guard lock{w.mutex};
        return w.slivers.at(t).resources;
      },
      [self](effective_atom, std::string& c, std::string& t) -> caf::result<rspec> {
        if (auto err = note(self, "effective", c, t))
          return *err;
        auto& w = *self->state.world;
        std::lock_guard lock{w.mutex};
        return w.effective[t];
      },
      [self](loans_atom, std::string& c, std::string& t) -> caf::result<std::vector<loan>> {
        if (auto err = note(self, "loans", c, t))
          return *err;
        auto& w = *self->state.world;
        std::lock_guard lock{w.mutex};
        return w.loans[t];
      },
      [self](loans_atom, std::string& c, std::string& t,
             std::vector<loan>& xs) -> caf::result<caf::ok_atom> {
        if (auto err = note(self, "set_loans", c, t))
          return *err;
        auto& w = *self->state.world;
        std::lock_guard lock{w.mutex};
        w.loans[t] = xs;
        return caf::ok_atom_v;
      },
      [self](caf::get_atom) -> caf::result<std::vector<sliver_spec>> {
        auto& w = *self->state.world;
        std::lock_guard lock{w.mutex};
        std::vector<sliver_spec> out;
        for (const auto& [name, s] : w.slivers)
          out.push_back(s);
        return out;
      },
      [self](caf::get_atom, std::string& name) -> caf::result<sliver_spec> {
        auto& w = *self->state.world;
        std::lock_guard lock{w.mutex};
        auto i = w.slivers.find(name);
        if (i == w.slivers.end())
          return pl::make_error(errc::unknown_sliver, name);
        return i->second;
      },
  };
}

/// Holds the outcome of one XML-RPC call.
struct rpc_answer {
  std::optional<xmlrpc_c::value> result;
  int fault_code = 0;
  std::string fault_string;
  /// The HTTP status (200 for XML-RPC answers).
  unsigned status = 0;
  std::string body;

  bool ok() const { return result.has_value(); }
};

namespace net = boost::asio;
namespace bhttp = boost::beast::http;

/// Sends raw HTTP requests to the local API and reads the answers; blocking,
/// with a receive timeout so a server bug fails instead of hanging.
class http_client {
public:
  /// Connects to the root context's TCP port.
  explicit http_client(std::uint16_t port)
      : tcp_(ioc_) {
    tcp_->connect({net::ip::make_address("127.0.0.1"), port});
    bound(tcp_->native_handle());
  }
  /// Connects to a sliver's unix socket.
  explicit http_client(const std::filesystem::path& socket)
      : unix_(ioc_) {
    unix_->connect(net::local::stream_protocol::endpoint{socket.string()});
    bound(unix_->native_handle());
  }

  /// Sends one request; returns the response, or nothing when the server
  /// closed the connection instead.
  std::optional<bhttp::response<bhttp::string_body>>
  send(bhttp::verb verb, const std::string& target, std::string body) {
    bhttp::request<bhttp::string_body> req{verb, target, 11};
    req.set(bhttp::field::host, "localhost");
    req.set(bhttp::field::content_type, "text/xml");
    req.body() = std::move(body);
    req.prepare_payload();
    boost::system::error_code ec;
    bhttp::response<bhttp::string_body> res;
    if (tcp_) {
      bhttp::write(*tcp_, req, ec);
      if (!ec)
        bhttp::read(*tcp_, buffer_, res, ec);
    } else {
      bhttp::write(*unix_, req, ec);
      if (!ec)
        bhttp::read(*unix_, buffer_, res, ec);
    }
    if (ec)
      return std::nullopt;
    return res;
  }

  /// Writes `bytes` as they are and reads one response (nothing when the
  /// server closed the connection instead).
  std::optional<bhttp::response<bhttp::string_body>> raw(const std::string& bytes) {
    boost::system::error_code ec;
    bhttp::response<bhttp::string_body> res;
    if (tcp_) {
      net::write(*tcp_, net::buffer(bytes), ec);
      if (!ec)
        bhttp::read(*tcp_, buffer_, res, ec);
    } else {
      net::write(*unix_, net::buffer(bytes), ec);
      if (!ec)
        bhttp::read(*unix_, buffer_, res, ec);
    }
    if (ec)
      return std::nullopt;
    return res;
  }

  /// Calls `method` with `params`.
  rpc_answer call(const std::string& method, const xmlrpc_c::paramList& params = {}) {
    std::string xml;
    xmlrpc_c::xml::generateCall(method, params, &xml);
    auto res = send(bhttp::verb::post, "/", xml);
    if (!res)
      throw std::runtime_error("the server closed the connection");
    rpc_answer a;
    a.status = res->result_int();
    a.body = res->body();
    if (a.status != 200)
      return a;
    xmlrpc_c::rpcOutcome outcome;
    xmlrpc_c::xml::parseResponse(a.body, &outcome);
    if (outcome.succeeded()) {
      a.result = outcome.getResult();
    } else {
      a.fault_code = static_cast<int>(outcome.getFault().getCode());
      a.fault_string = outcome.getFault().getDescription();
    }
    return a;
  }

private:
  static void bound(int fd) {
    timeval tv{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  net::io_context ioc_;
  std::optional<net::ip::tcp::socket> tcp_;
  std::optional<net::local::stream_protocol::socket> unix_;
  boost::beast::flat_buffer buffer_;
};

/// Builds a parameter list from values.
inline xmlrpc_c::paramList params(std::initializer_list<xmlrpc_c::value> xs) {
  xmlrpc_c::paramList out;
  for (const auto& x : xs)
    out.add(x);
  return out;
}

inline xmlrpc_c::value str(const std::string& s) {
  return xmlrpc_c::value_string(s);
}

} // namespace pl::node::test
