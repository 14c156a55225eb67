#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/api/method.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <xmlrpc-c/base.hpp>

#include <functional>
#include <string>
#include <vector>

namespace pl::plc::api {

// PLCAPI's "related fields": UpdateSite's `persons` and `addresses`,
// UpdatePerson's `roles`, `sites`, `keys` and `slices`. The listed objects
// become exactly the owner's: the original adds and removes them by calling
// the association methods (AddPersonToSite, DeleteKey, ...) as the caller,
// with those methods' rights. Here too, through dispatcher::invoke; the whole
// list is checked first (types, unknown ids or names: fault 102; a method the
// caller may not call: 103), so such a request changes nothing.

/// A list of ids or names of existing objects (e.g. a site's `persons`).
struct id_relation {
  std::string field;      ///< Key in the update struct: "persons".
  std::string owner_list; ///< The owner's descriptor field holding the current ids: "person_ids".
  /// Resolves one listed id or name; fault 102 when there is none.
  std::function<int(store::connection&, const xmlrpc_c::value&)> resolve;
  std::string add_method;    ///< "AddPersonToSite"
  std::string remove_method; ///< "DeletePersonFromSite"
  bool owner_first = false;  ///< The owner is the methods' first argument (else the second).
};

/// A list of objects owned by the owner, each an id (kept) or a struct (new
/// without its id field, changed with it), e.g. a site's `addresses`.
struct object_relation {
  std::string field;         ///< "addresses"
  std::string owner_list;    ///< "address_ids"
  std::string id_field;      ///< "address_id"
  std::string add_method;    ///< (owner, fields): "AddSiteAddress"
  std::string update_method; ///< (id, fields): "UpdateAddress"
  std::string delete_method; ///< (id): "DeleteAddress"
};

/// The related fields a method accepts.
struct relations {
  std::vector<id_relation> ids;
  std::vector<object_relation> objects;

  /// Tells whether `key` is one of them.
  bool has(const std::string& key) const;
};

/// Applies the related fields present in `fields` to owner `owner_id` of
/// class `owner`: checks everything first, then calls the methods. Borrows
/// connections only while checking, never during the calls.
void apply_relations(const dispatcher& d, call_context& ctx, const store::class_desc& owner,
                     int owner_id, const xmlrpc_c::value& fields, const relations& rel);

} // namespace pl::plc::api
