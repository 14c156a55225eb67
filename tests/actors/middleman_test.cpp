// A record crossing a process boundary: two actor systems in one process, each
// with CAF's middleman, talking BASP over loopback. Port 0, bounded waits.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/records.hpp"
#include "actors/runtime_config.hpp"
#include "actors/type_ids.hpp"

using namespace std::chrono_literals;

namespace {

// Echoes a sliver spec (and a snapshot) back; refuses a nameless one with a pl
// error, so errors are checked across the wire too.
using echo_actor = caf::typed_actor<
    caf::replies_to<caf::put_atom, pl::sliver_spec>::with<pl::sliver_spec>,
    caf::replies_to<pl::snapshot_atom, pl::sliver_snapshot>::with<pl::sliver_snapshot>>;

echo_actor::behavior_type echo() {
  return {
      [](caf::put_atom, pl::sliver_spec& x) -> caf::result<pl::sliver_spec> {
        if (x.name.empty())
          return pl::make_error(pl::errc::invalid_argument, "sliver without a name");
        return std::move(x);
      },
      [](pl::snapshot_atom, pl::sliver_snapshot& x) { return std::move(x); },
  };
}

pl::sliver_spec sample() {
  pl::sliver_spec x;
  x.name = "princeton_codeen";
  x.slice_id = 42;
  x.node_id = 7;
  x.instantiation = "plc-instantiated";
  x.expires = 1'190'086'400;
  x.enabled = false;
  x.keys = {"ssh-ed25519 AAAAC3 alice@example.org"};
  auto resources = pl::make_rspec({{"cpu_share", "64"}, {"net_max_rate", "8000"}});
  REQUIRE(resources);
  x.resources = *resources;
  x.attributes = {{"vsys", "pfmount"}};
  x.initscript = "#!/bin/sh\ntrue\n";
  x.delegations = {"pl_broker"};
  x.vref = "fedora8";
  return x;
}

struct node_config : caf::actor_system_config {
  node_config() { pl::configure_runtime(*this, {.middleman = true, .max_threads = 1}); }
};

// Sends a request and waits for its reply or error, at most `timeout`.
template <class Reply, class... Ts>
caf::expected<Reply> call(caf::scoped_actor& self, const echo_actor& hdl, Ts&&... xs) {
  std::optional<caf::expected<Reply>> result;
  self->request(hdl, 10s, std::forward<Ts>(xs)...)
      .receive([&](Reply& x) { result.emplace(std::move(x)); },
               [&](caf::error& err) { result.emplace(std::move(err)); });
  REQUIRE(result.has_value());
  return std::move(*result);
}

} // namespace

TEST_CASE("a sliver_spec crosses the middleman unchanged", "[middleman]") {
  node_config server_cfg;
  caf::actor_system server{server_cfg};
  REQUIRE(server.has_middleman());
  auto server_echo = server.spawn(echo);
  // Stops the echo actor however the test ends, so `server` can shut down.
  struct stopper {
    echo_actor hdl;
    ~stopper() { caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown); }
  } stop_echo{server_echo};

  auto port = server.middleman().publish(server_echo, 0, "127.0.0.1");
  REQUIRE(port);
  CHECK(*port != 0);

  node_config client_cfg;
  caf::actor_system client{client_cfg};
  auto remote = client.middleman().remote_actor<echo_actor>("127.0.0.1", *port);
  REQUIRE(remote);
  CHECK(remote->node() != client.node()); // a proxy, not a local actor
  {
    caf::scoped_actor self{client};
    const auto spec = sample();
    auto back = call<pl::sliver_spec>(self, *remote, caf::put_atom_v, spec);
    REQUIRE(back);
    CHECK(*back == spec);

    pl::sliver_snapshot snap{7, 1'190'000'000, true, {spec, spec}};
    snap.slivers[1].name = "pl_broker";
    auto snap_back = call<pl::sliver_snapshot>(self, *remote, pl::snapshot_atom_v, snap);
    REQUIRE(snap_back);
    CHECK(*snap_back == snap);

    auto refused = call<pl::sliver_spec>(self, *remote, caf::put_atom_v, pl::sliver_spec{});
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == caf::error{pl::errc::invalid_argument});
    CHECK(client.render(refused.error()) == "pl: invalid_argument (sliver without a name)");
  }
}
