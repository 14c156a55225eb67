#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/api/method.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace pl::plc::api {

/// Describes PLCAPI 5.x's TagType (table `tag_types`, roles in `tag_type_role`).
const store::class_desc& tag_type_class();

/// A tag type as the write checks see it.
struct tag_type_info {
  int tag_type_id = 0;
  std::string tagname;
  std::vector<int> role_ids; ///< Roles allowed to set tags of this type.
};

/// Reads tag type `tag_type_id`; fault 102 "No such tag type" when missing.
tag_type_info load_tag_type(store::connection& conn, int tag_type_id);

/// Tells whether the caller holds one of the tag type's roles (PLCAPI's
/// caller_may_access_tag_type).
bool holds_tag_type_role(const caller& who, const tag_type_info& type);

/// Returns every tag type name, for `select_options::tag_names`: in 5.x tag
/// names are filter, sort and return fields of the tagged classes.
std::vector<std::string> tag_type_names(store::connection& conn);

/// Throws fault 108 when the caller may not write tags of `type` on object
/// `object_id`; returns otherwise.
using tag_write_check =
    std::function<void(store::connection&, const caller&, int object_id, const tag_type_info&)>;

/// Returns an SQL condition on `t` (the tag row) limiting what a Get<X>Tags
/// caller sees, or "" for everything. Built from authenticated ids only.
using tag_view_condition = std::function<std::string(const caller&)>;

/// One class of tags (SiteTag, PersonTag, NodeTag, InterfaceTag): enough to
/// describe it and to register its four methods.
struct tag_kind {
  std::string name;                ///< Class name, e.g. "SiteTag"; methods are Add<name> ...
  std::string table;               ///< Tag table, e.g. "site_tag".
  const store::class_desc* object; ///< The tagged class, e.g. &site_class().
  /// Fields copied from the tagged object into each tag: {API name, column of
  /// the object's table}, e.g. {"login_base", "login_base"}.
  std::vector<std::pair<std::string, std::string>> object_fields;
  bool object_by_name = false; ///< Also accept the object's name key (e.g. a hostname).
  tag_write_check may_write;
  tag_view_condition view = {};
  role_set add_roles, get_roles, update_roles, delete_roles;
};

/// Returns the descriptor of a tag class: `<table>_id`, the object's primary
/// key, the object fields, tag_type_id, tagname, description, category and
/// value. Tags of soft-deleted objects are not live.
store::class_desc make_tag_class(const tag_kind& kind);

/// Returns the SQL of a derived `<x>_tag_ids` list for the tagged class
/// (`t` being the object row), e.g. for the Site descriptor's site_tag_ids.
std::string tag_ids_sql(const std::string& tag_table, const std::string& primary_key);

/// Registers Add<X>, Get<X>s, Update<X> and Delete<X> for `kind` with PLCAPI
/// 5.x's arguments: (object id, tag_type_id_or_name, value), (filter,
/// return_fields), (tag id, value) and (tag id). Admins may always write;
/// everybody else must pass `kind.may_write`. One value per object and tag
/// type (fault 102 otherwise).
void add_tag_kind_methods(dispatcher& d, tag_kind kind);

/// Returns the declarations of AddTagType, GetTagTypes, UpdateTagType and
/// DeleteTagType (legacy wrappers reuse them).
std::vector<method_spec> tag_type_method_specs();

/// Registers the TagTypes methods (AddTagType, GetTagTypes, UpdateTagType,
/// DeleteTagType, AddRoleToTagType, DeleteRoleFromTagType) and the site and
/// person tags (Add/Get/Update/Delete SiteTag(s) and PersonTag(s)).
void add_tag_methods(dispatcher& d);

} // namespace pl::plc::api
