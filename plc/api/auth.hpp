#pragma once

#include "plc/api/method.hpp"

namespace pl::plc::api {

/// Establishes who sent `auth` (PLCAPI's auth struct) and checks that the
/// caller holds one of `allowed`; throws fault 103 otherwise.
///
/// Supported: `password` ({AuthMethod, Username, AuthString}: an enabled,
/// live person by e-mail) and `anonymous` (only where the method lists it).
/// Extra struct keys are ignored, as in PLCAPI.
caller authenticate(const xmlrpc_c::value& auth, const role_set& allowed, const services& svc);

} // namespace pl::plc::api
