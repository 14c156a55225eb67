#include "actors/errors.hpp"

namespace pl {

std::string to_string(errc x) {
  switch (x) {
  case errc::unknown_resource:
    return "unknown_resource";
  case errc::not_a_number:
    return "not_a_number";
  case errc::negative_value:
    return "negative_value";
  case errc::out_of_range:
    return "out_of_range";
  case errc::not_loanable:
    return "not_loanable";
  case errc::insufficient_allocation:
    return "insufficient_allocation";
  case errc::unknown_sliver:
    return "unknown_sliver";
  case errc::unknown_slice:
    return "unknown_slice";
  case errc::unknown_node:
    return "unknown_node";
  case errc::permission_denied:
    return "permission_denied";
  case errc::expired:
    return "expired";
  case errc::revoked:
    return "revoked";
  case errc::invalid_ticket:
    return "invalid_ticket";
  case errc::admission_refused:
    return "admission_refused";
  case errc::invalid_argument:
    return "invalid_argument";
  case errc::mechanism_failure:
    return "mechanism_failure";
  case errc::unsupported:
    return "unsupported";
  case errc::not_connected:
    return "not_connected";
  }
  return "errc(" + std::to_string(static_cast<int>(x)) + ")";
}

caf::error make_error(errc code, std::string context) {
  return caf::error{code, std::move(context)};
}

} // namespace pl
