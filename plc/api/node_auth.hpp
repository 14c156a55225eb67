#pragma once

// Node authentication (PLCAPI's BootAuth, AuthMethod "hmac"): the caller
// proves it holds the node key by sending HMAC-SHA1(key, message) where the
// message is PLCAPI's canonical form of the call's other arguments
// (actors/node_hmac.hpp).

#include "plc/api/method.hpp"

#include "actors/node_hmac.hpp"

#include <xmlrpc-c/base.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pl::plc::api {

// The canonicalisation and the digest are actors/node_hmac's, shared with the
// node and boot managers that make the digests PLC checks here.
using pl::float_text;

/// Returns pl::hmac::canonical_scalar's text; a value PLCAPI cannot hash is fault
/// 103 "Unsupported argument type for hmac".
std::string canonical_scalar(const xmlrpc_c::value& v, float_text style = float_text::python3);

/// Returns pl::hmac::message's text (BootAuth's message for the arguments
/// after the auth struct); fault 103 as canonical_scalar.
std::string hmac_message(const std::vector<xmlrpc_c::value>& args,
                         float_text style = float_text::python3);

/// Returns HMAC-SHA1(`key`, `message`) in lowercase hex (Python's hexdigest()).
inline std::string hmac_sha1_hex(std::string_view key, std::string_view message) {
  return pl::hmac::sha1_hex(key, message);
}

/// Authenticates a node by `auth` ({AuthMethod: "hmac" or "hmac_dummybox",
/// node_id: int, value: hex digest}) over `args`, the call's arguments after
/// the auth struct. Fault 103 when the method does not list the node role,
/// the node is unknown or deleted, has no key, or the digest does not match;
/// in the last two cases the node's PIs and techs (and the boot address) get
/// the `authfail` message, as PLCAPI does. Extra keys (BootManager 3.x sends
/// node_ip) are ignored.
caller hmac_auth(const std::map<std::string, xmlrpc_c::value>& auth, const role_set& allowed,
                 const std::vector<xmlrpc_c::value>& args, const services& svc,
                 const std::string& peer_address);

/// Mails the message template `message_id` about node `node_id` (PLCAPI's
/// notify_owners): to the configured boot address, to support when
/// `support`, and to the enabled PIs (`pis`) and techs (`techs`) of the node's
/// site. The template sees node_id, hostname and fault besides the PLC_*
/// values. Returns false (and logs) when the template is missing or
/// disabled, mail is off, or nobody is to receive it.
bool notify_node_owners(const call_context& ctx, int node_id, const std::string& message_id,
                        bool pis, bool techs, bool support, const std::string& fault = "None");

} // namespace pl::plc::api
