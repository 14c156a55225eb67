#pragma once

#include "plc/api/method.hpp"

#include <string>
#include <vector>

namespace pl::plc::api {

/// Establishes who sent `auth` (PLCAPI's auth struct) and checks that the
/// caller holds one of `allowed`; throws fault 103 otherwise.
///
/// `args` are the call's other arguments as received (hmac signs them).
///
/// Supported: `password` ({AuthMethod, Username, AuthString}: an enabled,
/// live person by e-mail; a legacy MD5-crypt hash is replaced by a scrypt
/// one at the first successful login; failures are throttled per account and
/// per `peer_address` through `svc.throttle`), `session` ({AuthMethod,
/// session}: a person session until it expires, or a node session; a session
/// that fails is deleted, except when only the roles do not fit, which is
/// fault 108), `hmac` and `hmac_dummybox` ({AuthMethod, node_id, value}:
/// a node proving its key over `args`, see node_auth.hpp) and `anonymous`
/// (only where the method lists it). Extra struct keys are ignored, as in
/// PLCAPI.
caller authenticate(const xmlrpc_c::value& auth, const role_set& allowed, const services& svc,
                    const std::string& peer_address, const std::vector<xmlrpc_c::value>& args = {});

} // namespace pl::plc::api
