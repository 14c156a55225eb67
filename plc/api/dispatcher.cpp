#include "plc/api/dispatcher.hpp"

#include "plc/api/auth.hpp"
#include "plc/api/events.hpp"
#include "plc/api/fault.hpp"
#include "plc/store/pg.hpp"
#include "plc/store/pool.hpp"

#include <xmlrpc-c/base.h>
#include <xmlrpc-c/girerr.hpp>
#include <xmlrpc-c/registry.hpp>
#include <xmlrpc-c/xml.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>

namespace pl::plc::api {

const char* xml_type_name(xml_type t) {
  switch (t) {
  case xml_type::boolean:
    return "boolean";
  case xml_type::integer:
    return "int";
  case xml_type::real:
    return "double";
  case xml_type::string:
    return "string";
  case xml_type::structure:
    return "struct";
  case xml_type::array:
    return "array";
  case xml_type::nil:
    return "nil";
  case xml_type::any:
    return "any";
  }
  return "any";
}

void call_context::touched(std::string type, int id) {
  for (const auto& o : objects)
    if (o.id == id && o.type == type)
      return;
  objects.push_back({std::move(type), id});
}

namespace {
std::atomic<std::uint64_t> write_counter{0};
}

std::uint64_t writes_finished() {
  return write_counter.load(std::memory_order_acquire);
}

bool records_events(const method_spec& spec) {
  switch (spec.events) {
  case event_mode::always:
    return true;
  case event_mode::never:
    return false;
  case event_mode::on_change:
    return true;
  case event_mode::by_name:
    break;
  }
  return spec.name.rfind("Get", 0) != 0 && spec.name != "AuthCheck" &&
         spec.name.rfind("system.", 0) != 0;
}

std::string caller::label() const {
  if (person_id)
    return "person_id " + std::to_string(*person_id);
  if (node_id)
    return "node_id " + std::to_string(*node_id);
  return {};
}

namespace {

/// Carries the HTTP peer through xmlrpc-c into the methods (also multicall's sub-calls).
struct request_info : xmlrpc_c::callInfo {
  explicit request_info(const std::string& peer)
      : peer_address(peer) {}
  const std::string& peer_address;
};

char signature_char(xml_type t) {
  switch (t) {
  case xml_type::boolean:
    return 'b';
  case xml_type::integer:
    return 'i';
  case xml_type::real:
    return 'd';
  case xml_type::string:
    return 's';
  case xml_type::structure:
    return 'S';
  case xml_type::array:
    return 'A';
  case xml_type::nil:
    return 'n';
  case xml_type::any:
    return 's'; // xmlrpc-c signatures have no "any"; string is what PLCAPI reports
  }
  return 's';
}

/// Builds xmlrpc-c's signature string: one "ret:args" entry per accepted arity.
std::string signature_of(const method_spec& spec) {
  std::string ret(1, signature_char(spec.returns));
  std::string fixed = spec.roles.empty() ? "" : "S";
  std::string out;
  std::size_t required = 0;
  while (required < spec.params.size() && !spec.params[required].optional)
    ++required;
  for (std::size_t n = required; n <= spec.params.size(); ++n) {
    std::string args = fixed;
    for (std::size_t i = 0; i < n; ++i)
      args += signature_char(spec.params[i].type);
    if (!out.empty())
      out += ',';
    out += ret + ':' + args;
  }
  return out;
}

bool type_matches(xml_type want, xmlrpc_c::value::type_t got) {
  using v = xmlrpc_c::value;
  switch (want) {
  case xml_type::any:
    return true;
  case xml_type::boolean:
    return got == v::TYPE_BOOLEAN;
  case xml_type::integer:
    return got == v::TYPE_INT || got == v::TYPE_I8;
  case xml_type::real:
    return got == v::TYPE_DOUBLE || got == v::TYPE_INT || got == v::TYPE_I8;
  case xml_type::string:
    return got == v::TYPE_STRING;
  case xml_type::structure:
    return got == v::TYPE_STRUCT;
  case xml_type::array:
    return got == v::TYPE_ARRAY;
  case xml_type::nil:
    return got == v::TYPE_NIL;
  }
  return false;
}

const char* value_type_name(xmlrpc_c::value::type_t t) {
  using v = xmlrpc_c::value;
  switch (t) {
  case v::TYPE_INT:
  case v::TYPE_I8:
    return "int";
  case v::TYPE_BOOLEAN:
    return "boolean";
  case v::TYPE_DOUBLE:
    return "double";
  case v::TYPE_DATETIME:
    return "dateTime";
  case v::TYPE_STRING:
    return "string";
  case v::TYPE_BYTESTRING:
    return "base64";
  case v::TYPE_ARRAY:
    return "array";
  case v::TYPE_STRUCT:
    return "struct";
  case v::TYPE_NIL:
    return "nil";
  default:
    return "unknown";
  }
}

/// Adapts one method_spec to xmlrpc-c: the single edge where PLCAPI faults are made.
class method_adapter : public xmlrpc_c::method2 {
public:
  method_adapter(method_spec spec, const services& svc, const call_observer& observer)
      : spec_(std::move(spec))
      , svc_(svc)
      , observer_(observer)
      , records_(records_events(spec_)) {
    _signature = signature_of(spec_);
    _help = spec_.help;
  }

  void execute(const xmlrpc_c::paramList& params, const xmlrpc_c::callInfo* info,
               xmlrpc_c::value* result) override {
    static const std::string no_peer;
    auto* req = dynamic_cast<const request_info*>(info);
    call_context ctx{svc_, req ? req->peer_address : no_peer, {}};
    auto start = std::chrono::steady_clock::now();
    int code = 0;
    try {
      *result = call(params, ctx);
    } catch (const xmlrpc_c::fault& f) {
      code = f.getCode();
      finish(start, params, ctx, code, f.getDescription());
      throw;
    }
    finish(start, params, ctx, code, ctx.message);
  }

private:
  xmlrpc_c::value call(const xmlrpc_c::paramList& params, call_context& ctx) {
    try {
      check_count(params.size());
      std::size_t first = spec_.roles.empty() ? 0 : 1;
      std::vector<xmlrpc_c::value> args;
      args.reserve(params.size() - first);
      for (std::size_t i = first; i < params.size(); ++i)
        args.push_back(params[i]);
      // hmac auth signs the other arguments as received, before any check.
      if (first == 1)
        ctx.who = authenticate(params[0], spec_.roles, svc_, ctx.peer_address, args);
      for (std::size_t k = 0; k < args.size(); ++k) {
        const auto& decl = spec_.params[k];
        if (!type_matches(decl.type, args[k].type()))
          throw fault::invalid_value(decl.name, std::string{"expected "} +
                                                    xml_type_name(decl.type) + ", got " +
                                                    value_type_name(args[k].type()));
      }
      return spec_.handler(ctx, args);
    } catch (const fault& f) {
      throw to_xmlrpc(ctx, static_cast<int>(f.code()), f.what());
    } catch (const store::db_error& e) {
      spdlog::warn("plc.api event=db_error method={} sqlstate={} message={}", spec_.name,
                   e.sqlstate(), e.what());
      throw to_xmlrpc(ctx, static_cast<int>(fault_code::db_error),
                      std::string{fault_base(fault_code::db_error)} + ": " + e.what());
    } catch (const std::exception& e) {
      spdlog::error("plc.api event=internal_error method={} what={}", spec_.name, e.what());
      throw to_xmlrpc(ctx, static_cast<int>(fault_code::internal_error),
                      fault_base(fault_code::internal_error));
    }
  }

  /// Reports the call to the observer and, for recorded methods, to `events`.
  void finish(std::chrono::steady_clock::time_point start, const xmlrpc_c::paramList& params,
              const call_context& ctx, int code, const std::string& message) const {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (observer_)
      observer_(spec_.name, code, took.count());
    if (records_)
      write_counter.fetch_add(1, std::memory_order_acq_rel);
    if (!records_ || !svc_.db || !svc_.clock)
      return;
    if (spec_.events == event_mode::on_change && code == 0 && message.empty())
      return;
    event_record ev;
    ev.call_name = spec_.name;
    std::vector<xmlrpc_c::value> all;
    for (std::size_t i = 0; i < params.size(); ++i)
      all.push_back(params[i]);
    ev.call = call_text(spec_.name, all);
    ev.person_id = ctx.who.person_id;
    ev.node_id = ctx.who.node_id;
    ev.auth_type = ctx.who.auth_method;
    if (ev.auth_type.empty() && !all.empty() && all[0].type() == xmlrpc_c::value::TYPE_STRUCT) {
      // Authentication failed: still say which method was tried.
      auto m = xmlrpc_c::value_struct(all[0]).cvalue();
      auto i = m.find("AuthMethod");
      if (i != m.end() && i->second.type() == xmlrpc_c::value::TYPE_STRING)
        ev.auth_type = xmlrpc_c::value_string(i->second).cvalue().substr(0, 32);
    }
    ev.fault_code = code;
    ev.message = message;
    ev.runtime = took.count();
    ev.objects = ctx.objects;
    try {
      auto conn = svc_.db->acquire();
      record_event(*conn, ev, *svc_.clock);
    } catch (const std::exception& e) {
      // The call itself is done (and maybe committed); a lost event is logged, not faulted.
      spdlog::error("plc.api event=event_not_recorded method={} what={}", spec_.name, e.what());
    }
  }

  void check_count(std::size_t got) const {
    std::size_t fixed = spec_.roles.empty() ? 0 : 1;
    std::size_t max = fixed + spec_.params.size();
    std::size_t min = fixed;
    while (min < max && !spec_.params[min - fixed].optional)
      ++min;
    if (got >= min && got <= max)
      return;
    std::string expected =
        min == max ? std::to_string(min) : std::to_string(min) + "-" + std::to_string(max);
    throw fault(fault_code::invalid_argument_count,
                "Expected " + expected + " arguments, got " + std::to_string(got));
  }

  xmlrpc_c::fault to_xmlrpc(const call_context& ctx, int code, const std::string& text) const {
    std::string prefix = ctx.who.label();
    std::string full =
        prefix.empty() ? spec_.name + ": " + text : prefix + ": " + spec_.name + ": " + text;
    return xmlrpc_c::fault(full, static_cast<xmlrpc_c::fault::code_t>(code));
  }

  method_spec spec_;
  const services& svc_;
  const call_observer& observer_;
  bool records_;
};

/// Answers every name the registry does not know with PLCAPI's fault 100.
class unknown_method : public xmlrpc_c::defaultMethod {
public:
  explicit unknown_method(const call_observer& observer)
      : observer_(observer) {}

  void execute(const std::string& name, const xmlrpc_c::paramList&, xmlrpc_c::value*) override {
    if (observer_)
      observer_("(unknown)", static_cast<int>(fault_code::invalid_method), 0.0);
    throw xmlrpc_c::fault("Invalid method " + name,
                          static_cast<xmlrpc_c::fault::code_t>(fault_code::invalid_method));
  }

private:
  const call_observer& observer_;
};

/// Runs system.multicall with PLCAPI's semantics: each call goes through the
/// registry as if sent alone; a failing call, a malformed entry and a nested
/// system.multicall (-507) each yield a fault struct in place while the others
/// run. xmlrpc-c's own multicall refuses the whole request on nesting, so the
/// dispatcher does the iteration. Returns nothing for a body that is not a
/// well-formed multicall, which then takes the normal path (and its fault).
std::optional<std::string> multicall(const xmlrpc_c::registry& registry, const std::string& xml,
                                     const request_info& info) {
  std::string name;
  xmlrpc_c::paramList params;
  try {
    xmlrpc_c::xml::parseCall(xml, &name, &params);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (name != "system.multicall" || params.size() != 1 ||
      params[0].type() != xmlrpc_c::value::TYPE_ARRAY)
    return std::nullopt;
  auto fault_struct = [](int code, const std::string& text) {
    return xmlrpc_c::value_struct(
        {{"faultCode", xmlrpc_c::value_int(code)}, {"faultString", xmlrpc_c::value_string(text)}});
  };
  std::vector<xmlrpc_c::value> results;
  for (const auto& entry : xmlrpc_c::value_array(params[0]).vectorValueValue()) {
    if (entry.type() != xmlrpc_c::value::TYPE_STRUCT) {
      results.push_back(fault_struct(1, "system.multicall expected struct"));
      continue;
    }
    auto call = xmlrpc_c::value_struct(entry).cvalue();
    auto method = call.find("methodName");
    auto args = call.find("params");
    if (method == call.end() || method->second.type() != xmlrpc_c::value::TYPE_STRING) {
      results.push_back(fault_struct(1, "Missing methodName"));
      continue;
    }
    std::string sub = xmlrpc_c::value_string(method->second).cvalue();
    if (sub == "system.multicall") {
      results.push_back(fault_struct(-507, "Recursive system.multicall forbidden"));
      continue;
    }
    xmlrpc_c::paramList sub_params;
    if (args != call.end()) {
      if (args->second.type() != xmlrpc_c::value::TYPE_ARRAY) {
        results.push_back(fault_struct(1, "params must be an array"));
        continue;
      }
      for (const auto& v : xmlrpc_c::value_array(args->second).vectorValueValue())
        sub_params.add(v);
    }
    std::string sub_xml, sub_response;
    xmlrpc_c::xml::generateCall(sub, sub_params, &sub_xml);
    registry.processCall(sub_xml, &info, &sub_response);
    xmlrpc_c::rpcOutcome outcome;
    xmlrpc_c::xml::parseResponse(sub_response, &outcome);
    if (outcome.succeeded())
      results.push_back(xmlrpc_c::value_array(std::vector<xmlrpc_c::value>{outcome.getResult()}));
    else
      results.push_back(fault_struct(static_cast<int>(outcome.getFault().getCode()),
                                     outcome.getFault().getDescription()));
  }
  std::string response;
  xmlrpc_c::xml::generateResponse(xmlrpc_c::rpcOutcome(xmlrpc_c::value_array(results)), &response);
  return response;
}

} // namespace

struct dispatcher::impl {
  services svc;
  call_observer observer;
  xmlrpc_c::registry registry;
  std::map<std::string, method_spec> specs;
};

dispatcher::dispatcher(services svc, call_observer observer)
    : impl_(std::make_unique<impl>()) {
  impl_->svc = svc;
  impl_->observer = std::move(observer);
  impl_->registry.setDefaultMethod(xmlrpc_c::defaultMethodPtr(new unknown_method(impl_->observer)));
}

dispatcher::~dispatcher() = default;

void dispatcher::add(method_spec spec) {
  if (!impl_->specs.emplace(spec.name, spec).second)
    throw std::logic_error("method registered twice: " + spec.name);
  std::string name = spec.name;
  impl_->registry.addMethod(
      name, xmlrpc_c::methodPtr(new method_adapter(std::move(spec), impl_->svc, impl_->observer)));
}

std::string dispatcher::handle(std::string_view request_xml,
                               const std::string& peer_address) const {
  request_info info{peer_address};
  std::string response;
  // Only a body that names system.multicall can be one; all others take the direct path.
  if (request_xml.find("system.multicall") != std::string_view::npos) {
    if (auto answer = multicall(impl_->registry, std::string{request_xml}, info))
      return *answer;
  }
  impl_->registry.processCall(std::string{request_xml}, &info, &response);
  return response;
}

const method_spec* dispatcher::find(const std::string& name) const {
  auto it = impl_->specs.find(name);
  return it == impl_->specs.end() ? nullptr : &it->second;
}

xmlrpc_c::value dispatcher::invoke(const std::string& name, call_context& ctx,
                                   const std::vector<xmlrpc_c::value>& args) const {
  const method_spec* spec = find(name);
  if (!spec)
    throw fault(fault_code::invalid_method, name);
  if (!spec->roles.empty() && !intersects(ctx.who.roles, spec->roles))
    throw fault(fault_code::authentication_failure, "Not allowed to call " + name);
  std::size_t required = 0;
  while (required < spec->params.size() && !spec->params[required].optional)
    ++required;
  if (args.size() < required || args.size() > spec->params.size())
    throw fault(fault_code::invalid_argument_count,
                name + ": expected " + std::to_string(required) + "-" +
                    std::to_string(spec->params.size()) + " arguments, got " +
                    std::to_string(args.size()));
  for (std::size_t k = 0; k < args.size(); ++k)
    if (!type_matches(spec->params[k].type, args[k].type()))
      throw fault::invalid_value(spec->params[k].name,
                                 std::string{"expected "} + xml_type_name(spec->params[k].type) +
                                     ", got " + value_type_name(args[k].type()));
  return spec->handler(ctx, args);
}

const xmlrpc_c::registry& dispatcher::registry() const {
  return impl_->registry;
}

void dispatcher::set_xml_size_limit(std::size_t bytes) {
  xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, bytes);
}

void add_auth_methods(dispatcher& d) {
  d.add(method_spec{
      "AuthCheck",
      {role::admin, role::pi, role::user, role::tech, role::node},
      {},
      xml_type::integer,
      "Returns 1 if the user or node authenticated successfully, faults otherwise.",
      [](call_context&, const std::vector<xmlrpc_c::value>&) -> xmlrpc_c::value {
        return xmlrpc_c::value_int(1);
      },
  });
}

} // namespace pl::plc::api
