#pragma once

// What each node should run: the slivers (slices bound to a node, plus system,
// delegated and nm-controller slices everywhere) with their keys and tags,
// read in a constant number of statements however many slices there are.
// GetSlivers renders them for one node; the push link builds `sliver_spec`s of
// one slice for all its nodes from the same code.

#include "plc/api/dispatcher.hpp"
#include "plc/store/pg.hpp"

#include "actors/records.hpp"
#include "actors/sliver_tags.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pl::plc::api {

/// One slice as it applies on one node.
struct sliver_view {
  int slice_id = 0;
  std::string name;
  std::string instantiation;
  std::int64_t expires = 0;
  /// (key_type, key) of the slice's enabled members, blacklisted keys left out.
  std::vector<std::pair<std::string, std::string>> keys;
  /// (tagname, value) in precedence order: the node's own sliver tags, then
  /// those of its node groups, then the slice-wide ones. A name appears only
  /// in the highest scope that has it (the original could list it twice);
  /// within that scope a resource keeps its first value, other tags (vsys,
  /// proper_op) every distinct one.
  std::vector<std::pair<std::string, std::string>> attributes;
};

/// Reads the slivers of `slice_ids` on each of `node_ids` (every pair: the
/// caller decides which slices apply where). Slices deleted or expired at
/// `now` are left out. Five statements whatever the sizes.
std::map<int, std::vector<sliver_view>> load_slivers(store::connection& conn,
                                                     const std::vector<int>& slice_ids,
                                                     const std::vector<int>& node_ids,
                                                     std::int64_t now);

/// Ids of the slices that apply on node `node_id` (GetSlivers' selection):
/// bound to it, or with the tag system=1, or delegated or nm-controller. One
/// statement.
std::vector<int> slices_for_node(store::connection& conn, int node_id, std::int64_t now);

/// Ids of the live nodes where slice `slice_id` applies: its nodes, or every
/// live node for a system, delegated or nm-controller slice. One statement.
std::vector<int> nodes_for_slice(store::connection& conn, int slice_id, std::int64_t now);

/// Ids of every live (not deleted, not expired, instantiated) slice.
std::vector<int> live_slice_ids(store::connection& conn, std::int64_t now);

/// Turns a sliver view into the spec node managers apply on node `node_id`
/// (actors/sliver_tags reads the tags); nullopt when the tags cannot be used
/// (a resource value that does not parse), with the reason in `why`.
std::optional<sliver_spec> to_sliver_spec(const sliver_view& view, int node_id,
                                          const std::vector<named_script>& scripts,
                                          std::string* why = nullptr);

/// Loads the enabled InitScripts, in id order. One statement.
std::vector<named_script> enabled_initscripts(store::connection& conn);

/// The slice family defaults (PLC_FLAVOUR_SLICE_*) GetSlivers reports as
/// each sliver's GetSliceFamily when the slice has no vref/pldistro,
/// fcdistro or arch tag.
struct slice_family_defaults {
  std::string pldistro = "planetlab";
  std::string fcdistro = "f18";
  std::string arch = "x86_64";
};

struct get_slivers_options {
  slice_family_defaults family;
  /// PLC_RESERVATION_GRANULARITY, seconds.
  std::int64_t lease_granularity = 1800;
  /// PLC_OMF_XMPP_SERVER; empty: OMF off (`xmpp` is {server: nil}).
  std::string xmpp_server;
};

/// Registers GetSlivers (roles admin and node; a node may leave out the node
/// and gets its own, and may not ask for another's).
void add_sliver_methods(dispatcher& d, get_slivers_options options = {});

} // namespace pl::plc::api
