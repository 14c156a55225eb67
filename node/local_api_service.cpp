#include "node/local_api_service.hpp"

#include <algorithm>
#include <system_error>

#include <xmlrpc-c/base.h>

namespace pl::node {

local_api_service::~local_api_service() {
  if (server_)
    server_->stop();
}

outcome<std::unique_ptr<local_api_service>> start_local_api(caf::actor_system& sys,
                                                            node_manager_actor nm,
                                                            local_api_config cfg,
                                                            const clock& clk) {
  ticket_desk_config desk_cfg;
  desk_cfg.node_id = cfg.node_id;
  desk_cfg.keys = cfg.ticket_keys;
  desk_cfg.skew = cfg.ticket_skew;
  desk_cfg.capacity = cfg.ticket_capacity;
  if (!cfg.state_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cfg.state_dir, ec);
    if (ec)
      return failure{"cannot create " + cfg.state_dir.string() + ": " + ec.message()};
    desk_cfg.state_file = cfg.state_dir / "tickets.state";
  }
  auto desk = ticket_desk::open(std::move(desk_cfg), clk);
  if (!desk)
    return failure{"ticket state: " + desk.error()};
  // xmlrpc-c refuses larger documents (process-wide, 512 KiB by default);
  // never lower it for someone else in the process.
  auto limit = std::max(xmlrpc_limit_get(XMLRPC_XML_SIZE_LIMIT_ID), cfg.server.max_body_bytes);
  xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, limit);
  std::unique_ptr<local_api_service> svc{new local_api_service()};
  svc->desk_ = std::move(*desk);
  local_api_options opts;
  opts.node_id = cfg.node_id;
  opts.admin_slices = cfg.admin_slices;
  opts.call_timeout = cfg.call_timeout;
  opts.account_uid = cfg.account_uid;
  svc->api_ = std::make_unique<local_api>(sys, std::move(nm), *svc->desk_, std::move(opts));
  const local_api* api = svc->api_.get();
  svc->server_ = std::make_unique<api_server>(
      cfg.server,
      [api](std::string_view body, const api_caller& caller) { return api->handle(body, caller); });
  try {
    svc->server_->start();
  } catch (const std::system_error& e) {
    return failure{e.what()};
  }
  return svc;
}

} // namespace pl::node
