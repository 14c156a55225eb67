#include "vnet/types.hpp"

namespace pl::vnet {

const char* to_string(reason r) noexcept {
  switch (r) {
  case reason::none:
    return "none";
  case reason::malformed:
    return "malformed";
  case reason::not_trackable:
    return "not_trackable";
  case reason::icmp_error:
    return "icmp_error";
  case reason::source_not_local:
    return "source_not_local";
  case reason::port_bound:
    return "port_bound";
  case reason::blacklisted:
    return "blacklisted";
  case reason::fragment:
    return "fragment";
  case reason::proxy_not_held:
    return "proxy_not_held";
  case reason::destination_not_local:
    return "destination_not_local";
  case reason::unowned:
    return "unowned";
  }
  return "unknown";
}

const char* to_string(error e) noexcept {
  switch (e) {
  case error::none:
    return "none";
  case error::port_in_use:
    return "port_in_use";
  case error::not_bound:
    return "not_bound";
  case error::not_owner:
    return "not_owner";
  case error::not_permitted:
    return "not_permitted";
  case error::invalid_slice:
    return "invalid_slice";
  case error::bad_protocol:
    return "bad_protocol";
  case error::promiscuous_refused:
    return "promiscuous_refused";
  case error::interface_not_allowed:
    return "interface_not_allowed";
  case error::device_busy:
    return "device_busy";
  case error::no_such_device:
    return "no_such_device";
  case error::bad_prefix:
    return "bad_prefix";
  case error::duplicate_device:
    return "duplicate_device";
  }
  return "unknown";
}

} // namespace pl::vnet
