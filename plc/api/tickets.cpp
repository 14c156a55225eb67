#include "plc/api/tickets.hpp"

#include "plc/api/fault.hpp"
#include "plc/api/slices.hpp"
#include "plc/api/slivers.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>

namespace pl::plc::api {

key_ticket_authority::key_ticket_authority(signing_key key, const pl::clock& clock,
                                           std::chrono::seconds lifetime,
                                           std::function<void(const ticket&)> on_issued)
    : key_(std::move(key))
    , clock_(clock)
    , lifetime_(lifetime)
    , on_issued_(std::move(on_issued)) {}

outcome<signed_ticket> key_ticket_authority::sign(sliver_ticket body) {
  const std::int64_t cap = clock_.now_epoch() + lifetime_.count();
  body.expires = std::min(body.expires, cap);
  return issue_ticket(std::move(body), key_, clock_);
}

void key_ticket_authority::note_issued(const ticket& record) {
  if (on_issued_)
    on_issued_(record);
}

ticket ticket_record(const signed_ticket& t, sliver_spec sliver) {
  ticket out;
  out.blob = t.blob();
  out.slice_name = t.body.slice_name;
  out.node_ids = t.body.node_ids;
  out.sliver = std::move(sliver);
  out.issued = t.body.issued;
  out.expires = t.body.expires;
  out.nonce = to_hex(t.body.nonce);
  out.key_id = to_hex(t.body.key_id);
  out.signature.assign(t.signature.begin(), t.signature.end());
  return out;
}

namespace {

using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

// Whether the slice applies on every node: delegated and nm-controller slices
// (GetSlivers hands them to every node, so a node redeeming the ticket already
// knows them) and system slices.
bool everywhere(const sliver_view& v) {
  if (v.instantiation == "delegated" || v.instantiation == "nm-controller")
    return true;
  return std::any_of(v.attributes.begin(), v.attributes.end(),
                     [](const auto& a) { return a.first == "system" && a.second == "1"; });
}

xv get_slice_ticket(call_context& ctx, const args_t& args, ticket_authority* authority) {
  if (authority == nullptr)
    throw fault(fault_code::not_implemented,
                "Slice tickets are not configured on this PLC (no ticket key: [tickets] key)");
  auto conn = ctx.svc.db->acquire();
  const std::int64_t now = ctx.svc.clock->now_epoch();
  slice_row slice = load_slice(*conn, args[0], now);
  check_slice_rights(*conn, ctx.who, slice);
  // GetSliceTicket.py signs whatever the slice is; a not-instantiated slice
  // is a placeholder with no sliver anywhere, so its ticket would grant
  // nothing a node can act on. Say so instead.
  if (slice.instantiation == "not-instantiated")
    throw fault(fault_code::invalid_argument,
                "Slice " + slice.name +
                    " is not instantiated: set its instantiation (UpdateSlice) before asking "
                    "for a ticket");

  // Node 0 is no node: only the slice-wide tags apply, as in the original
  // (get_slivers with node None).
  auto views = load_slivers(*conn, {slice.slice_id}, {0}, now)[0];
  if (views.empty())
    throw fault(fault_code::invalid_argument, "No such slice");
  const sliver_view& view = views.front();

  sliver_ticket body;
  body.slice_name = view.name;
  body.slice_id = view.slice_id;
  body.instantiation = view.instantiation;
  body.any_node = everywhere(view);
  if (!body.any_node) {
    for (int node_id : nodes_for_slice(*conn, slice.slice_id, now))
      body.node_ids.push_back(node_id);
    if (body.node_ids.empty())
      throw fault(fault_code::invalid_argument,
                  "Slice " + slice.name +
                      " has no nodes: a ticket names where it may be redeemed "
                      "(AddSliceToNodes first)");
  }
  for (const auto& [type, key] : view.keys)
    body.keys.push_back(key);
  // A name's first value wins, as the node reads GetSlivers' attributes.
  for (const auto& [name, value] : view.attributes)
    body.attributes.emplace(name, value);
  body.expires = view.expires;

  auto signed_t = authority->sign(std::move(body));
  if (!signed_t)
    throw fault(fault_code::internal_error, "Cannot issue a ticket: " + signed_t.error());

  sliver_spec sliver;
  if (auto spec = to_sliver_spec(view, 0, enabled_initscripts(*conn))) {
    sliver = std::move(*spec);
  } else {
    sliver.name = view.name;
    sliver.slice_id = view.slice_id;
    sliver.instantiation = view.instantiation;
    sliver.keys = signed_t->body.keys;
  }
  sliver.expires = signed_t->body.expires;
  authority->note_issued(ticket_record(*signed_t, std::move(sliver)));
  return xmlrpc_c::value_string(signed_t->text());
}

} // namespace

void add_ticket_methods(dispatcher& d, ticket_authority* authority) {
  d.add({"GetSliceTicket",
         {role::admin, role::pi, role::user, role::peer},
         {{"slice_id_or_name", xml_type::any}},
         xml_type::string,
         "Returns a signed ticket for the slice: its name, id, instantiation, the nodes where it "
         "may be redeemed (any node for delegated, nm-controller and system slices), the "
         "slice-wide tags and the keys of its enabled members, valid until the slice expires or "
         "the ticket lifetime ends, whichever is first. Admins get tickets for any slice, members "
         "for their slices, PIs for the slices of their sites. The text starts with pltk1: "
         "(docs/api.md, Slice ticket format); plticket verify checks it with PLC's public key "
         "(GET /ticket-key.pem).",
         [authority](call_context& ctx, const args_t& args) {
           return get_slice_ticket(ctx, args, authority);
         }});
}

} // namespace pl::plc::api
