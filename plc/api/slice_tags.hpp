#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/api/method.hpp"
#include "plc/api/slices.hpp"
#include "plc/api/tags.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pl::plc::api {

/// Describes PLCAPI 5.x's SliceTag (table `slice_tag`): a tag of a whole
/// slice, of one sliver (`node_id`) or of the slivers on a node group's nodes
/// (`nodegroup_id`), with the slice's `name` and the tag type's fields.
const store::class_desc& slice_tag_class();

/// Creates the tag type of every resource in the resource table
/// (actors/resources.hpp) that has none yet: category `slice/rspec`, the
/// row's description and unit, settable by admins (PLCAPI's default; admins
/// may add roles). Existing types are left as they are. plcd runs it at
/// start-up after the migrations, so a new resource needs no PLC change.
void seed_slice_tag_types(store::connection& conn);

/// Checks a slice tag value for tag type `tagname`; fault 102 when it is not
/// valid: resources must parse by the resource table (a non-numeric
/// cpu_share, a value out of the row's range), `enabled` and `system` are 0
/// or 1, `initscript` names an enabled initscript.
void validate_slice_tag_value(store::connection& conn, const std::string& tagname,
                              const std::string& value);

/// Throws fault 108 unless the caller may write a tag of `type` on `slice`
/// (scope: `node_id` for a sliver tag, `nodegroup_id` for a node group's),
/// as PLCAPI 5.x's caller_may_write_slice_tag: admins always; others need one
/// of the type's roles (a node: the `node` role, 50). A node may write only
/// its own slivers' tags, of slices bound to it; a person never node group
/// tags, sliver tags only on the slice's nodes, and only as a member of the
/// slice (role user) or a PI over its site (role pi, also through an
/// organization). A node caller is any caller whose `node_id` is set by
/// authentication and has no `person_id`.
void check_slice_tag_write(store::connection& conn, const caller& who, const slice_row& slice,
                           const tag_type_info& type, std::optional<int> node_id,
                           std::optional<int> nodegroup_id);

/// Sets slice-wide tags given by name as AddSlice and UpdateSlice fields:
/// updates the slice's first global tag of that type, else adds one, with
/// the rights and checks of UpdateSliceTag and AddSliceTag.
void set_slice_tag_fields(call_context& ctx, store::connection& conn, const slice_row& slice,
                          const std::vector<std::pair<std::string, std::string>>& tags);

/// Registers AddSliceTag, GetSliceTags, UpdateSliceTag, DeleteSliceTag and
/// the 4.x names: AddSliceAttribute, GetSliceAttributes,
/// UpdateSliceAttribute, DeleteSliceAttribute, AddSliceAttributeType,
/// GetSliceAttributeTypes, UpdateSliceAttributeType, DeleteSliceAttributeType
/// (slice_attribute_id <-> slice_tag_id, attribute_type_id <-> tag_type_id,
/// name <-> tagname).
void add_slice_tag_methods(dispatcher& d);

} // namespace pl::plc::api
