#pragma once

#include "plc/api/mailer.hpp"
#include "plc/api/method.hpp"
#include "plc/store/descriptor.hpp"

#include <map>
#include <string>
#include <vector>

namespace pl::plc::api {

class dispatcher;

/// Returns the Message class (GetMessages): message_id, subject, template, enabled.
const store::class_desc& message_class();

/// Returns the values every template may use: PLC_NAME,
/// PLC_MAIL_SUPPORT_ADDRESS, PLC_WWW_HOST, PLC_WWW_SSL_PORT (empty without a mailer).
std::map<std::string, std::string> identity_params(const services& svc);

/// Sends the enabled template `message_id` of the messages table, rendered
/// with `params` (plus identity_params()), from PLC support to `to` and `cc`.
/// Returns false (and logs) when there is no such enabled template or mail is
/// off; a delivery failure is fault 111.
bool send_template(const call_context& ctx, const std::string& message_id,
                   const std::vector<mail_address>& to, const std::vector<mail_address>& cc,
                   std::map<std::string, std::string> params);

/// Registers AddMessage, GetMessages, UpdateMessage, DeleteMessage.
void add_message_methods(dispatcher& d);

/// Registers VerifyPerson, ResetPassword and NotifyPersons.
void add_mail_methods(dispatcher& d);

} // namespace pl::plc::api
