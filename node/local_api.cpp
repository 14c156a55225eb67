#include "node/local_api.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <pwd.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/registry.hpp>

#include "actors/errors.hpp"
#include "actors/resources.hpp"
#include "node/desired_state.hpp"

namespace pl::node {

// -- plain rules --------------------------------------------------------------

access_verdict check_access(const api_caller& caller, const sliver_spec* target,
                            const std::vector<std::string>& admin_slices) {
  if (target == nullptr)
    return access_verdict::not_a_sliver;
  if (caller.root)
    return access_verdict::allowed;
  if (caller.sliver.empty())
    return access_verdict::denied;
  if (caller.sliver == target->name)
    return access_verdict::allowed;
  const auto& d = target->delegations;
  if (std::find(d.begin(), d.end(), caller.sliver) != d.end())
    return access_verdict::allowed;
  if (std::find(admin_slices.begin(), admin_slices.end(), caller.sliver) != admin_slices.end())
    return access_verdict::allowed;
  return access_verdict::denied;
}

namespace {

std::string context_of(const caf::error& err) {
  if (err.context().match_elements<std::string>())
    return err.context().get_as<std::string>(0);
  return {};
}

/// Returns e.g. `unknown_sliver: pl_x`, or CAF's own description.
std::string describe(const caf::error& err) {
  if (err.category() == caf::atom("pl")) {
    auto text = to_string(static_cast<pl::errc>(err.code()));
    auto ctx = context_of(err);
    return ctx.empty() ? text : text + ": " + ctx;
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
    case caf::sec::request_timeout:
      return "the node manager did not answer in time";
    case caf::sec::request_receiver_down:
      return "the node manager is not running";
    default:
      return "node manager: " + caf::to_string(static_cast<caf::sec>(err.code()));
    }
  }
  return caf::to_string(err);
}

} // namespace

api_fault_text fault_from(const caf::error& err, std::string_view what) {
  auto code = api_fault::call_error;
  if (err.category() == caf::atom("pl")) {
    switch (static_cast<pl::errc>(err.code())) {
    case pl::errc::unknown_sliver:
    case pl::errc::invalid_argument:
    case pl::errc::not_loanable:
    case pl::errc::insufficient_allocation:
    case pl::errc::unknown_resource:
    case pl::errc::not_a_number:
    case pl::errc::negative_value:
    case pl::errc::out_of_range:
      code = api_fault::invalid_argument;
      break;
    case pl::errc::permission_denied:
      code = api_fault::permission_denied;
      break;
    default:
      break;
    }
  }
  std::string prefix;
  switch (code) {
  case api_fault::invalid_argument:
    prefix = "Invalid argument: ";
    break;
  case api_fault::permission_denied:
    prefix = "Permission denied: ";
    break;
  default:
    prefix = "Error in call: ";
    break;
  }
  return {static_cast<int>(code), prefix + std::string{what} + ": " + describe(err)};
}

// -- the methods --------------------------------------------------------------

namespace {

using xmlrpc_c::value;

/// Carries the caller through xmlrpc-c into the methods (also multicall's
/// sub-calls).
struct call_info : xmlrpc_c::callInfo {
  explicit call_info(const api_caller& c)
      : caller(c) {}
  const api_caller& caller;
};

[[noreturn]] void raise(api_fault code, const std::string& text) {
  throw xmlrpc_c::fault(text, static_cast<xmlrpc_c::fault::code_t>(code));
}

value int_value(std::int64_t x) {
  if (x >= std::numeric_limits<std::int32_t>::min() &&
      x <= std::numeric_limits<std::int32_t>::max())
    return xmlrpc_c::value_int(static_cast<int>(x));
  return xmlrpc_c::value_i8(x);
}

value rspec_value(const rspec& r) {
  std::map<std::string, value> m;
  for (const auto& [name, v] : r.values)
    m.emplace(name, int_value(v));
  return xmlrpc_c::value_struct(m);
}

value strings_value(const std::vector<std::string>& xs) {
  std::vector<value> out;
  for (const auto& x : xs)
    out.push_back(xmlrpc_c::value_string(x));
  return xmlrpc_c::value_array(out);
}

std::string join_lines(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs) {
    if (!out.empty())
      out += '\n';
    out += x;
  }
  return out;
}

value loans_value(const std::vector<loan>& loans) {
  std::vector<value> out;
  for (const auto& l : loans)
    out.push_back(xmlrpc_c::value_array(std::vector<value>{
        xmlrpc_c::value_string(l.to), xmlrpc_c::value_string(l.resource), int_value(l.amount)}));
  return xmlrpc_c::value_array(out);
}

const char* type_name(value::type_t t) {
  switch (t) {
  case value::TYPE_INT:
  case value::TYPE_I8:
    return "int";
  case value::TYPE_BOOLEAN:
    return "boolean";
  case value::TYPE_DOUBLE:
    return "double";
  case value::TYPE_DATETIME:
    return "dateTime";
  case value::TYPE_STRING:
    return "string";
  case value::TYPE_BYTESTRING:
    return "base64";
  case value::TYPE_ARRAY:
    return "array";
  case value::TYPE_STRUCT:
    return "struct";
  case value::TYPE_NIL:
    return "nil";
  default:
    return "unknown";
  }
}

std::optional<std::int64_t> int_of(const value& v) {
  if (v.type() == value::TYPE_INT)
    return static_cast<int>(xmlrpc_c::value_int(v));
  if (v.type() == value::TYPE_I8)
    return static_cast<std::int64_t>(xmlrpc_c::value_i8(v));
  return std::nullopt;
}

/// Reads the local API's loan list `[[to, resource, amount], ...]` lent by
/// `lender`; faults 102 naming the first bad entry.
std::vector<loan> parse_loans(const value& v, const std::string& lender) {
  static const std::string prefix =
      "Invalid argument: SetLoans: the loans must be a list of [sliver, resource, amount]";
  if (v.type() != value::TYPE_ARRAY)
    raise(api_fault::invalid_argument, prefix + ", got a " + type_name(v.type()));
  std::vector<loan> out;
  auto items = xmlrpc_c::value_array(v).vectorValueValue();
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto at = prefix + "; loan " + std::to_string(i) + ": ";
    if (items[i].type() != value::TYPE_ARRAY)
      raise(api_fault::invalid_argument,
            at + "expected a list, got a " + type_name(items[i].type()));
    auto parts = xmlrpc_c::value_array(items[i]).vectorValueValue();
    if (parts.size() != 3)
      raise(api_fault::invalid_argument,
            at + "expected 3 elements, got " + std::to_string(parts.size()));
    if (parts[0].type() != value::TYPE_STRING || parts[1].type() != value::TYPE_STRING)
      raise(api_fault::invalid_argument, at + "the sliver and the resource must be strings");
    auto amount = int_of(parts[2]);
    if (!amount)
      raise(api_fault::invalid_argument,
            at + "the amount must be an int, got a " + type_name(parts[2].type()));
    loan l;
    l.from = lender;
    l.to = xmlrpc_c::value_string(parts[0]).cvalue();
    l.resource = xmlrpc_c::value_string(parts[1]).cvalue();
    l.amount = *amount;
    if (l.amount < 0)
      raise(api_fault::invalid_argument, at + "the amount must not be negative");
    if (!is_loanable(l.resource))
      raise(api_fault::invalid_argument, at + "'" + l.resource + "' cannot be lent");
    out.push_back(std::move(l));
  }
  return out;
}

/// Asks the node manager actor and waits for the answer (or the timeout).
class nm_client {
public:
  nm_client(caf::actor_system& sys, node_manager_actor nm, std::chrono::milliseconds timeout)
      : sys_(sys)
      , nm_(std::move(nm))
      , timeout_(timeout) {}

  template <class R, class... Ts>
  caf::expected<R> ask(Ts&&... xs) const {
    if (!nm_)
      return caf::make_error(caf::sec::request_receiver_down);
    caf::scoped_actor self{sys_};
    caf::expected<R> out{caf::make_error(caf::sec::request_timeout)};
    self->request(nm_, caf::duration{timeout_}, std::forward<Ts>(xs)...)
        .receive([&](R& x) { out = std::move(x); }, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

private:
  caf::actor_system& sys_;
  node_manager_actor nm_;
  std::chrono::milliseconds timeout_;
};

/// Says what a method acts on.
enum class scope {
  /// Anyone may call it; no sliver argument.
  open,
  /// The first argument names the target sliver (permission checked).
  target,
  /// The caller itself is the target (GetRecord).
  self,
};

struct call;
using method_body = std::function<value(call&)>;

struct method_def {
  std::string name;
  std::size_t nargs = 0;
  scope where = scope::open;
  std::string signature;
  std::string help;
  method_body body;
};

/// Holds what every method needs.
struct api_state {
  api_state(caf::actor_system& sys, node_manager_actor nm_handle, ticket_desk& desk,
            local_api_options o)
      : nm(sys, std::move(nm_handle), o.call_timeout)
      , tickets(desk)
      , opts(std::move(o)) {}

  nm_client nm;
  ticket_desk& tickets;
  local_api_options opts;
  std::vector<method_def> defs;
};

/// Holds one call as a method body sees it.
struct call {
  const api_state& api;
  const method_def& def;
  const api_caller& caller;
  std::vector<value> args;
  /// The target sliver, for `scope::target` and `scope::self`.
  sliver_spec target;

  /// Returns e.g. `Start(pl_x)`.
  std::string what() const {
    return def.where == scope::open ? def.name : def.name + "(" + target.name + ")";
  }

  /// Returns the answer of the node manager, or faults as `fault_from` says.
  template <class R, class... Ts>
  R ask(Ts&&... xs) const {
    auto r = api.nm.ask<R>(std::forward<Ts>(xs)...);
    if (!r) {
      auto f = fault_from(r.error(), what());
      throw xmlrpc_c::fault(f.text, static_cast<xmlrpc_c::fault::code_t>(f.code));
    }
    return std::move(*r);
  }

  void require_delegated() const {
    if (target.instantiation != "delegated")
      raise(api_fault::call_error, "Error in call: " + what() + ": " + target.name + " is " +
                                       (target.instantiation.empty() ? std::string{"not delegated"}
                                                                     : target.instantiation) +
                                       "; only PLC creates and destroys slivers that are not "
                                       "delegated");
  }
};

value ok() {
  return xmlrpc_c::value_int(1);
}

/// Turns a verified ticket into the `ticket` record the node manager redeems.
caf::expected<ticket> ticket_record(const signed_ticket& t, std::int32_t node_id) {
  auto desired = from_ticket(t.body, node_id);
  if (!desired)
    return desired.error();
  if (desired->slivers.size() != 1) {
    std::string why =
        desired->invalid.empty() ? "it names no usable sliver" : desired->invalid.front().reason;
    return pl::make_error(errc::invalid_argument, why);
  }
  ticket r;
  r.blob = t.blob();
  r.slice_name = t.body.slice_name;
  r.node_ids = t.body.node_ids;
  r.sliver = desired->slivers.front();
  r.issued = t.body.issued;
  r.expires = t.body.expires;
  r.nonce = to_hex(t.body.nonce);
  r.key_id = to_hex(t.body.key_id);
  r.signature.assign(t.signature.begin(), t.signature.end());
  return r;
}

std::optional<std::int64_t> passwd_uid(const std::string& name) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  while (true) {
    int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr)
      return std::nullopt;
    return static_cast<std::int64_t>(found->pw_uid);
  }
}

// -- method bodies ---------------------------------------------------------------

value do_help(call& c) {
  std::string out;
  for (const auto& d : c.api.defs)
    out += d.name + d.signature + "\n    " + d.help + "\n";
  return xmlrpc_c::value_string(out);
}

value do_ticket(call& c) {
  if (c.args[0].type() != value::TYPE_STRING)
    raise(api_fault::invalid_argument,
          std::string{"Ticket error: the ticket must be a string, got a "} +
              type_name(c.args[0].type()));
  auto text = xmlrpc_c::value_string(c.args[0]).cvalue();
  auto node_id = c.api.opts.node_id;
  auto deliver = [&](const signed_ticket& t) -> std::string {
    auto rec = ticket_record(t, node_id);
    if (!rec)
      return "the ticket cannot be used: " + describe(rec.error());
    auto r = c.api.nm.ask<caf::ok_atom>(redeem_atom_v, std::move(*rec));
    if (!r)
      return describe(r.error());
    return {};
  };
  auto result = c.api.tickets.redeem(text, deliver);
  if (!result.check.valid()) {
    spdlog::info("node.api event=ticket_refused caller={} verdict={} message={}", c.caller.name(),
                 to_string(result.check.verdict), result.check.message);
    raise(api_fault::invalid_argument,
          "Ticket error: " + std::string{to_string(result.check.verdict)} + ": " +
              result.check.message);
  }
  const auto& body = result.check.ticket->body;
  if (!result.delivery_error.empty()) {
    spdlog::warn("node.api event=ticket_undelivered caller={} slice={} message={}", c.caller.name(),
                 body.slice_name, result.delivery_error);
    raise(api_fault::invalid_argument,
          "Ticket error: " + body.slice_name + ": " + result.delivery_error);
  }
  if (!result.persist_error.empty())
    spdlog::error("node.api event=ticket_state_not_saved slice={} message={}", body.slice_name,
                  result.persist_error);
  spdlog::info("node.api event=ticket_redeemed caller={} slice={} nonce={} expires={}",
               c.caller.name(), body.slice_name, to_hex(body.nonce), body.expires);
  return ok();
}

value do_get_xids(call& c) {
  auto all = c.ask<std::vector<sliver_spec>>(caf::get_atom_v);
  const auto& uid_of = c.api.opts.account_uid;
  std::map<std::string, value> out;
  for (const auto& s : all) {
    auto uid = uid_of ? uid_of(s.name) : passwd_uid(s.name);
    if (uid)
      out.emplace(s.name, int_value(*uid));
  }
  return xmlrpc_c::value_struct(out);
}

value do_get_ssh_keys(call& c) {
  auto all = c.ask<std::vector<sliver_spec>>(caf::get_atom_v);
  std::map<std::string, value> out;
  for (const auto& s : all)
    out.emplace(s.name, xmlrpc_c::value_string(join_lines(s.keys)));
  return xmlrpc_c::value_struct(out);
}

value do_create(call& c) {
  c.require_delegated();
  c.ask<caf::ok_atom>(create_atom_v, c.caller.name(), c.target.name);
  return ok();
}

value do_destroy(call& c) {
  c.require_delegated();
  c.ask<caf::ok_atom>(destroy_atom_v, c.caller.name(), c.target.name);
  return ok();
}

value do_start(call& c) {
  c.ask<caf::ok_atom>(start_atom_v, c.caller.name(), c.target.name);
  return ok();
}

value do_stop(call& c) {
  c.ask<caf::ok_atom>(stop_atom_v, c.caller.name(), c.target.name);
  return ok();
}

value do_recreate(call& c) {
  // As the original: stop, make sure it exists, start again.
  c.ask<caf::ok_atom>(stop_atom_v, c.caller.name(), c.target.name);
  if (c.target.instantiation == "delegated")
    c.ask<caf::ok_atom>(create_atom_v, c.caller.name(), c.target.name);
  c.ask<caf::ok_atom>(start_atom_v, c.caller.name(), c.target.name);
  return ok();
}

value do_get_rspec(call& c) {
  return rspec_value(c.ask<rspec>(rspec_atom_v, c.caller.name(), c.target.name));
}

value do_get_effective(call& c) {
  return rspec_value(c.ask<rspec>(effective_atom_v, c.caller.name(), c.target.name));
}

value do_get_loans(call& c) {
  return loans_value(c.ask<std::vector<loan>>(loans_atom_v, c.caller.name(), c.target.name));
}

value do_set_loans(call& c) {
  auto loans = parse_loans(c.args[1], c.target.name);
  c.ask<caf::ok_atom>(loans_atom_v, c.caller.name(), c.target.name, std::move(loans));
  return ok();
}

value do_get_record(call& c) {
  const auto& s = c.target;
  auto who = c.caller.name();
  auto effective = c.ask<rspec>(effective_atom_v, who, s.name);
  auto loans = c.ask<std::vector<loan>>(loans_atom_v, who, s.name);
  std::map<std::string, value> attrs;
  for (const auto& [k, v] : s.attributes)
    attrs.emplace(k, xmlrpc_c::value_string(v));
  std::map<std::string, value> rec{
      {"name", xmlrpc_c::value_string(s.name)},
      {"slice_id", xmlrpc_c::value_int(s.slice_id)},
      {"instantiation", xmlrpc_c::value_string(s.instantiation)},
      {"expires", int_value(s.expires)},
      {"enabled", xmlrpc_c::value_boolean(s.enabled)},
      {"keys", xmlrpc_c::value_string(join_lines(s.keys))},
      {"rspec", rspec_value(s.resources)},
      {"_rspec", rspec_value(effective)},
      {"_loans", loans_value(loans)},
      {"delegations", strings_value(s.delegations)},
      {"initscript", xmlrpc_c::value_string(s.initscript)},
      {"vref", xmlrpc_c::value_string(s.vref)},
      {"attributes", xmlrpc_c::value_struct(attrs)},
  };
  if (auto st = c.api.nm.ask<node_status>(status_atom_v)) {
    for (const auto& x : st->slivers)
      if (x.name == s.name)
        rec.emplace("state", xmlrpc_c::value_string(to_string(x.phase)));
  }
  return xmlrpc_c::value_struct(rec);
}

std::vector<method_def> method_table() {
  return {
      {"Help", 0, scope::open, "()", "Returns this description of the node manager's methods.",
       do_help},
      {"Ticket", 1, scope::open, "(ticket)",
       "Redeems a slice ticket from PLC (GetSliceTicket): verified with PLC's key, once; its "
       "sliver is delivered to the node manager, which creates a delegated sliver. Returns 1.",
       do_ticket},
      {"GetXIDs", 0, scope::open, "()",
       "Returns {sliver name: uid of its account} for the slivers on this node.", do_get_xids},
      {"GetSSHKeys", 0, scope::open, "()",
       "Returns {sliver name: its authorized_keys lines} for the slivers on this node.",
       do_get_ssh_keys},
      {"Create", 1, scope::target, "(sliver)",
       "Creates a delegated sliver (others are PLC's to create). Returns 1.", do_create},
      {"Destroy", 1, scope::target, "(sliver)",
       "Destroys a delegated sliver (others are PLC's to destroy). Returns 1.", do_destroy},
      {"Start", 1, scope::target, "(sliver)", "Starts the sliver. Returns 1.", do_start},
      {"Stop", 1, scope::target, "(sliver)",
       "Stops every process of the sliver; it stays stopped until Start. Returns 1.", do_stop},
      {"ReCreate", 1, scope::target, "(sliver)",
       "Stops the sliver, makes sure it exists, and starts it again. Returns 1.", do_recreate},
      {"GetRSpec", 1, scope::target, "(sliver)",
       "Returns the sliver's resources as PLC gave them, without loans.", do_get_rspec},
      {"GetEffectiveRSpec", 1, scope::target, "(sliver)",
       "Returns the sliver's resources with loans and administrator overrides applied.",
       do_get_effective},
      {"GetLoans", 1, scope::target, "(sliver)",
       "Returns the loans the sliver makes: [[sliver, resource, amount], ...].", do_get_loans},
      {"SetLoans", 2, scope::target, "(sliver, loans)",
       "Replaces the loans the sliver makes with [[sliver, resource, amount], ...]; a loan the "
       "sliver cannot afford refuses the whole list. Returns 1.",
       do_set_loans},
      {"GetRecord", 0, scope::self, "()", "Returns the calling sliver's own record.",
       do_get_record},
  };
}

/// Extracts the sliver name from a name or a record struct with `name`.
std::optional<std::string> sliver_name(const value& v) {
  if (v.type() == value::TYPE_STRING)
    return xmlrpc_c::value_string(v).cvalue();
  if (v.type() == value::TYPE_STRUCT) {
    auto m = xmlrpc_c::value_struct(v).cvalue();
    auto i = m.find("name");
    if (i != m.end() && i->second.type() == value::TYPE_STRING)
      return xmlrpc_c::value_string(i->second).cvalue();
  }
  return std::nullopt;
}

/// Adapts one method to xmlrpc-c: argument count, target, permission, faults.
class method_adapter : public xmlrpc_c::method2 {
public:
  method_adapter(const api_state& api, const method_def& def)
      : api_(api)
      , def_(def) {
    _help = def.help;
  }

  void execute(const xmlrpc_c::paramList& params, const xmlrpc_c::callInfo* info,
               value* result) override {
    static const api_caller nobody{};
    auto* ci = dynamic_cast<const call_info*>(info);
    const api_caller& caller = ci ? ci->caller : nobody;
    call c{api_, def_, caller, {}, {}};
    for (std::size_t i = 0; i < params.size(); ++i)
      c.args.push_back(params[i]);
    try {
      *result = run(c);
      // Changes are worth a line each; reads only when debugging.
      auto level = def_.name.rfind("Get", 0) == 0 || def_.name == "Help" ? spdlog::level::debug
                                                                         : spdlog::level::info;
      spdlog::log(level, "node.api event=call method={} caller={} target={} result=ok", def_.name,
                  caller.name(), c.target.name);
    } catch (const xmlrpc_c::fault& f) {
      spdlog::info("node.api event=call method={} caller={} target={} fault={} message={}",
                   def_.name, caller.name(), c.target.name, static_cast<int>(f.getCode()),
                   f.getDescription());
      throw;
    }
  }

private:
  value run(call& c) const {
    if (c.args.size() != def_.nargs)
      raise(api_fault::invalid_argument_count, def_.name + " takes " + std::to_string(def_.nargs) +
                                                   (def_.nargs == 1 ? " argument" : " arguments") +
                                                   ", got " + std::to_string(c.args.size()));
    if (def_.where == scope::open)
      return def_.body(c);
    std::string name;
    if (def_.where == scope::self) {
      if (c.caller.sliver.empty())
        raise(api_fault::invalid_argument,
              "Invalid argument: " + def_.name + " answers a sliver about itself; the " +
                  (c.caller.root ? "root context" : "caller") + " has no sliver record");
      name = c.caller.sliver;
    } else {
      auto n = sliver_name(c.args[0]);
      if (!n)
        raise(api_fault::invalid_argument, "Invalid argument: " + def_.name +
                                               ": the first argument must be a sliver name, got "
                                               "a " +
                                               type_name(c.args[0].type()));
      name = std::move(*n);
    }
    c.target.name = name; // for the log, also when refused
    auto spec = api_.nm.ask<sliver_spec>(caf::get_atom_v, name);
    const sliver_spec* target = nullptr;
    if (spec) {
      target = &*spec;
    } else if (!(spec.error().category() == caf::atom("pl") &&
                 static_cast<pl::errc>(spec.error().code()) == pl::errc::unknown_sliver)) {
      auto f = fault_from(spec.error(), def_.name + "(" + name + ")");
      throw xmlrpc_c::fault(f.text, static_cast<xmlrpc_c::fault::code_t>(f.code));
    }
    switch (check_access(c.caller, target, api_.opts.admin_slices)) {
    case access_verdict::not_a_sliver:
      raise(api_fault::invalid_argument,
            "Invalid argument: " + def_.name + ": " + name + " is not a sliver on this node");
    case access_verdict::denied:
      raise(api_fault::permission_denied, c.caller.name() + ": Permission denied: " + def_.name +
                                              "(" + name + ") is for " + name +
                                              " itself and the slices in its delegations");
    case access_verdict::allowed:
      break;
    }
    c.target = std::move(*spec);
    return def_.body(c);
  }

  const api_state& api_;
  const method_def& def_;
};

/// Answers every name the registry does not know with fault 100.
class unknown_method : public xmlrpc_c::defaultMethod {
public:
  explicit unknown_method(std::string names)
      : names_(std::move(names)) {}

  void execute(const std::string& name, const xmlrpc_c::paramList&, value*) override {
    raise(api_fault::invalid_method,
          "Invalid method " + name + "; the node manager's methods are " + names_);
  }

private:
  std::string names_;
};

} // namespace

struct local_api::impl {
  impl(caf::actor_system& sys, node_manager_actor nm, ticket_desk& desk, local_api_options o)
      : state(sys, std::move(nm), desk, std::move(o)) {}

  api_state state;
  xmlrpc_c::registry registry;
};

local_api::local_api(caf::actor_system& sys, node_manager_actor nm, ticket_desk& tickets,
                     local_api_options opts)
    : impl_(std::make_unique<impl>(sys, std::move(nm), tickets, std::move(opts))) {
  auto& defs = impl_->state.defs;
  defs = method_table();
  std::sort(defs.begin(), defs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::string names;
  for (const auto& d : defs) {
    if (!names.empty())
      names += ", ";
    names += d.name;
    impl_->registry.addMethod(d.name, xmlrpc_c::methodPtr(new method_adapter(impl_->state, d)));
  }
  impl_->registry.setDefaultMethod(xmlrpc_c::defaultMethodPtr(new unknown_method(names)));
}

local_api::~local_api() = default;

std::string local_api::handle(std::string_view request_xml, const api_caller& caller) const {
  call_info info{caller};
  std::string response;
  impl_->registry.processCall(std::string{request_xml}, &info, &response);
  return response;
}

std::vector<std::string> local_api::method_names() {
  std::vector<std::string> out;
  for (const auto& d : method_table())
    out.push_back(d.name);
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace pl::node
