#include "plc/push/service.hpp"

#include "plc/api/slivers.hpp"
#include "plc/store/listener.hpp"
#include "plc/store/pool.hpp"

#include "actors/clock.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/send.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace pl::plc::push {

node_lookup database_node_lookup(store::connection_pool& pool) {
  return [&pool](std::int32_t node_id) -> std::optional<node_identity> {
    auto conn = pool.acquire();
    auto res = conn->exec("SELECT hostname, coalesce(key, '') FROM nodes"
                          " WHERE node_id = $1::integer AND NOT deleted",
                          {std::to_string(node_id)});
    if (res.rows() == 0)
      return std::nullopt;
    return node_identity{std::string(res.text(0, 0)), std::string(res.text(0, 1))};
  };
}

bool slice_is_live(store::connection_pool& pool, const pl::clock& clock, std::int32_t slice_id) {
  auto conn = pool.acquire();
  return conn->exec("SELECT 1 FROM slices WHERE slice_id = $1::integer AND NOT deleted"
                    " AND expires > to_timestamp($2::bigint)"
                    " AND instantiation <> 'not-instantiated'",
                    {std::to_string(slice_id), std::to_string(clock.now_epoch())})
             .rows() > 0;
}

std::optional<desired_slice> load_desired_slice(store::connection_pool& pool,
                                                const pl::clock& clock, std::int32_t slice_id) {
  auto conn = pool.acquire();
  const std::int64_t now = clock.now_epoch();
  auto row = conn->exec("SELECT instantiation FROM slices WHERE slice_id = $1::integer"
                        " AND NOT deleted AND expires > to_timestamp($2::bigint)",
                        {std::to_string(slice_id), std::to_string(now)});
  if (row.rows() == 0 || row.text(0, 0) == "not-instantiated")
    return std::nullopt;
  auto nodes = api::nodes_for_slice(*conn, slice_id, now);
  // Node 0 is no node: the slice-wide view (global tags only) for the spec.
  std::vector<int> wanted{0};
  wanted.insert(wanted.end(), nodes.begin(), nodes.end());
  auto views = api::load_slivers(*conn, {slice_id}, wanted, now);
  if (views[0].empty())
    return std::nullopt; // deleted or expired meanwhile
  const auto scripts = api::enabled_initscripts(*conn);

  const api::sliver_view& global = views[0].front();
  desired_slice out;
  out.spec.slice_id = slice_id;
  out.spec.name = global.name;
  out.spec.instantiation = global.instantiation;
  out.spec.expires = global.expires;
  out.spec.node_ids.assign(nodes.begin(), nodes.end());
  for (const auto& [type, key] : global.keys)
    out.spec.keys.push_back(key);
  for (const auto& [name, value] : global.attributes)
    out.spec.attributes.emplace(name, value); // a name's first value wins
  for (int node_id : nodes) {
    const auto& list = views[node_id];
    if (list.empty())
      continue;
    std::string why;
    if (auto spec = api::to_sliver_spec(list.front(), node_id, scripts, &why))
      out.slivers.push_back(std::move(*spec));
    else
      spdlog::warn("plc.push event=sliver_unusable slice={} node_id={} reason=\"{}\"", global.name,
                   node_id, why);
  }
  return out;
}

void check_tls_files(const std::string& cert, const std::string& key, const std::string& cafile) {
  auto fail = [](const std::string& what) {
    std::string reason;
    while (auto code = ERR_get_error()) {
      char buf[256];
      ERR_error_string_n(code, buf, sizeof buf);
      reason += reason.empty() ? "" : "; ";
      reason += buf;
    }
    throw std::runtime_error("push TLS: " + what + (reason.empty() ? "" : " (" + reason + ")"));
  };
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_method()), SSL_CTX_free};
  if (!ctx)
    fail("cannot create an OpenSSL context");
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1)
    fail("cannot load the certificate " + cert);
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
    fail("cannot load the private key " + key);
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    fail("the key " + key + " does not match the certificate " + cert);
  if (SSL_CTX_load_verify_locations(ctx.get(), cafile.c_str(), nullptr) != 1)
    fail("cannot load the CA file " + cafile);
}

struct service::impl {
  caf::actor_system& sys;
  service_config config;
  node_registry_actor registry;
  push_gateway_actor gateway;
  ticket_office_actor office;
  slice_directory_actor directory;

  // Notifications heard before the actors exist wait here, so none is lost
  // between LISTEN and the directory's first load.
  std::mutex mutex;
  bool ready = false;
  std::vector<std::int32_t> early;
  int connects = 0;
  std::unique_ptr<store::listener> listener;

  impl(caf::actor_system& s, service_config c)
      : sys(s)
      , config(std::move(c)) {}

  void changed(std::int32_t slice_id) {
    if (directory)
      caf::anon_send(directory, caf::put_atom_v, slice_id);
    caf::anon_send(office, caf::update_atom_v, slice_id);
  }

  void on_notify(const std::string& payload) {
    std::int32_t slice_id = 0;
    auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), slice_id);
    if (ec != std::errc{} || end != payload.data() + payload.size()) {
      spdlog::warn("plc.push event=bad_notification payload=\"{}\"", payload);
      return;
    }
    std::lock_guard lock{mutex};
    if (!ready) {
      early.push_back(slice_id);
      return;
    }
    changed(slice_id);
  }

  void on_connect() {
    std::lock_guard lock{mutex};
    // The first connection precedes the actors' own first load.
    if (++connects == 1 || !ready)
      return;
    spdlog::info("plc.push event=resync reason=listener_reconnected");
    if (directory)
      caf::anon_send(directory, caf::reset_atom_v);
    caf::anon_send(office, caf::reset_atom_v);
  }
};

service::service(caf::actor_system& sys, service_config config)
    : impl_(std::make_unique<impl>(sys, std::move(config))) {
  auto& d = *impl_;
  if (d.config.pool == nullptr || d.config.clock == nullptr)
    throw std::invalid_argument("push::service: a pool and a clock are required");
  auto& pool = *d.config.pool;
  const pl::clock& clock = *d.config.clock;
  registry_config rc;
  rc.lookup = database_node_lookup(pool);
  rc.clock = &clock;
  d.registry = spawn_node_registry(sys, std::move(rc), d.config.detached);
  d.gateway = spawn_push_gateway(sys, d.registry);
  d.listener = std::make_unique<store::listener>(
      d.config.conninfo, std::vector<std::string>{slice_channel},
      [&d](const std::string&, const std::string& payload) { d.on_notify(payload); },
      [&d] { d.on_connect(); }, d.config.listener_backoff);
  ticket_office_config oc;
  oc.registry = d.registry;
  oc.clock = &clock;
  oc.slice_live = [&pool, &clock](std::int32_t id) { return slice_is_live(pool, clock, id); };
  auto office = spawn_ticket_office(sys, std::move(oc), d.config.detached);
  slice_directory_actor directory;
  if (d.config.slices) {
    directory_config dc;
    dc.load = [&pool, &clock](std::int32_t id) { return load_desired_slice(pool, clock, id); };
    dc.live_slices = [&pool, &clock] {
      auto conn = pool.acquire();
      auto ids = api::live_slice_ids(*conn, clock.now_epoch());
      return std::vector<std::int32_t>(ids.begin(), ids.end());
    };
    dc.registry = d.registry;
    dc.clock = &clock;
    directory = spawn_slice_directory(sys, std::move(dc), d.config.detached);
  }
  std::lock_guard lock{d.mutex};
  d.office = office;
  d.directory = directory;
  d.ready = true;
  for (auto slice_id : d.early)
    d.changed(slice_id);
  d.early.clear();
}

service::~service() {
  impl_->listener.reset(); // no more notifications
  for (auto handle :
       {caf::actor_cast<caf::actor>(impl_->directory), caf::actor_cast<caf::actor>(impl_->office),
        caf::actor_cast<caf::actor>(impl_->gateway), caf::actor_cast<caf::actor>(impl_->registry)})
    if (handle)
      caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
}

node_registry_actor service::registry() const {
  return impl_->registry;
}

push_gateway_actor service::gateway() const {
  return impl_->gateway;
}

ticket_office_actor service::tickets() const {
  return impl_->office;
}

slice_directory_actor service::directory() const {
  return impl_->directory;
}

std::uint16_t service::publish(const std::string& address, std::uint16_t port, bool tls) {
  auto& sys = impl_->sys;
  auto published = tls ? caf::openssl::publish(impl_->gateway, port, address.c_str(), true)
                       : sys.middleman().publish(impl_->gateway, port, address.c_str(), true);
  if (!published)
    throw std::runtime_error("cannot publish the push endpoint on " + address + ":" +
                             std::to_string(port) + ": " + sys.render(published.error()));
  return *published;
}

} // namespace pl::plc::push
