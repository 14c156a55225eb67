#include "plc/api/messages.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/dispatcher.hpp"
#include "plc/api/fault.hpp"
#include "plc/store/pool.hpp"

#include <spdlog/spdlog.h>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

store::class_desc make_message_class() {
  return {
      "Message",
      "messages",
      "message_id",
      "message_id",
      {
          {"message_id", field_type::text, {}, 255, true, false, "Message identifier"},
          {"subject", field_type::text, {}, 0, true, true, "Message summary"},
          {"template", field_type::text, {}, 0, true, true, "Message template"},
          {"enabled", field_type::boolean, {}, 0, true, false, "Message is enabled"},
      },
  };
}

std::string message_id_arg(const xv& v) {
  if (v.type() != xv::TYPE_STRING)
    throw fault::invalid_value("message_id", "expected string");
  return xmlrpc_c::value_string(v).cvalue();
}

xv add_message(call_context& ctx, const args_t& args) {
  auto values = writable_values(message_class(), args[0]);
  if (!values.has("message_id"))
    throw fault::invalid_value("message_fields", "'message_id' not specified");
  std::string cols, marks;
  std::vector<store::param> params;
  for (const auto& [column, value] : values.columns) {
    params.push_back(value);
    cols += (cols.empty() ? "" : ", ") + column;
    marks += (marks.empty() ? "$" : ", $") + std::to_string(params.size());
  }
  auto conn = ctx.svc.db->acquire();
  try {
    conn->exec("INSERT INTO messages (" + cols + ") VALUES (" + marks + ")", params);
  } catch (const store::db_error& e) {
    if (e.unique_violation())
      throw fault(fault_code::invalid_argument, "Message already exists");
    throw;
  }
  for (const auto& [column, value] : values.columns)
    if (column == "message_id" && value)
      ctx.message = *value;
  return xmlrpc_c::value_int(1);
}

xv get_messages(call_context& ctx, const args_t& args) {
  const xv& given = arg_or_nil(args, 0);
  if (given.type() == xv::TYPE_ARRAY)
    for (const auto& item : xmlrpc_c::value_array(given).vectorValueValue())
      if (item.type() != xv::TYPE_STRING)
        throw fault::invalid_value("message_id", "expected string");
  bool single = given.type() == xv::TYPE_STRING;
  xv filter = single ? xv{xmlrpc_c::value_array(std::vector<xv>{given})} : given;
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, message_class(), filter, arg_or_nil(args, 1));
}

xv update_message(call_context& ctx, const args_t& args) {
  std::string id = message_id_arg(args[0]);
  // Only these two, as PLCAPI's UpdateMessage (other keys are ignored).
  auto values = writable_values(message_class(), args[1], {"template", "enabled"});
  auto conn = ctx.svc.db->acquire();
  if (conn->exec("SELECT 1 FROM messages WHERE message_id = $1", {id}).rows() == 0)
    throw fault(fault_code::invalid_argument, "No such message");
  if (!values.columns.empty()) {
    std::string sets;
    std::vector<store::param> params;
    for (const auto& [column, value] : values.columns) {
      params.push_back(value);
      sets += (sets.empty() ? "" : ", ") + column + " = $" + std::to_string(params.size());
    }
    params.push_back(id);
    conn->exec("UPDATE messages SET " + sets + " WHERE message_id = $" +
                   std::to_string(params.size()),
               params);
  }
  ctx.message = id;
  return xmlrpc_c::value_int(1);
}

xv delete_message(call_context& ctx, const args_t& args) {
  std::string id = message_id_arg(args[0]);
  auto conn = ctx.svc.db->acquire();
  if (conn->exec("DELETE FROM messages WHERE message_id = $1", {id}).affected() == 0)
    throw fault(fault_code::invalid_argument, "No such message");
  ctx.message = id;
  return xmlrpc_c::value_int(1);
}

} // namespace

const store::class_desc& message_class() {
  static const store::class_desc cls = make_message_class();
  return cls;
}

std::map<std::string, std::string> identity_params(const services& svc) {
  mail_identity id = svc.mail ? svc.mail->identity() : mail_identity{};
  return {{"PLC_NAME", id.plc_name},
          {"PLC_MAIL_SUPPORT_ADDRESS", id.support_address},
          {"PLC_WWW_HOST", id.www_host},
          {"PLC_WWW_SSL_PORT", std::to_string(id.www_port)}};
}

bool send_template(const call_context& ctx, const std::string& message_id,
                   const std::vector<mail_address>& to, const std::vector<mail_address>& cc,
                   std::map<std::string, std::string> params) {
  std::string subject, body;
  {
    auto conn = ctx.svc.db->acquire();
    auto res = conn->exec("SELECT coalesce(subject, ''), coalesce(template, '') FROM messages"
                          " WHERE message_id = $1 AND enabled",
                          {message_id});
    if (res.rows() == 0) {
      spdlog::warn("plc.mail event=no_template message_id={}", message_id);
      return false;
    }
    subject = std::string{res.text(0, 0)};
    body = std::string{res.text(0, 1)};
  }
  if (!ctx.svc.mail) {
    spdlog::info("plc.mail event=mail_off message_id={}", message_id);
    return false;
  }
  for (auto& [k, v] : identity_params(ctx.svc))
    params.emplace(k, v);
  try {
    mail_message msg{ctx.svc.mail->sender(), to, cc, render_template(subject, params),
                     render_template(body, params)};
    ctx.svc.mail->send(msg);
  } catch (const mail_error& e) {
    spdlog::error("plc.mail event=send_failed message_id={} what={}", message_id, e.what());
    throw fault(fault_code::internal_error, std::string{"Error sending message: "} + e.what());
  }
  return true;
}

void add_message_methods(dispatcher& d) {
  d.add({"AddMessage",
         {role::admin},
         {{"message_fields", xml_type::structure}},
         xml_type::integer,
         "Adds a message template (message_id, subject, template, enabled). Returns 1.",
         add_message});
  d.add({"GetMessages",
         {role::admin, role::node},
         {{"message_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
         xml_type::array,
         "Returns message templates; the filter is a list of message_ids or a struct.",
         get_messages});
  d.add({"UpdateMessage",
         {role::admin},
         {{"message_id", xml_type::string}, {"message_fields", xml_type::structure}},
         xml_type::integer,
         "Updates a message template's template and enabled fields. Returns 1.",
         update_message});
  d.add({"DeleteMessage",
         {role::admin},
         {{"message_id", xml_type::string}},
         xml_type::integer,
         "Deletes a message template. Returns 1.",
         delete_message});
}

} // namespace pl::plc::api
