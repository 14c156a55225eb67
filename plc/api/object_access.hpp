#pragma once

#include "plc/api/crud.hpp"
#include "plc/api/filter.hpp"
#include "plc/api/method.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <xmlrpc-c/base.hpp>

#include <string>

namespace pl::plc::api {

/// Turns PLCAPI 5.x's bare id or name filter (`GetSites(auth, 'princeton')`)
/// into the equivalent one-element list; other filters pass unchanged.
xmlrpc_c::value normalize_filter(const xmlrpc_c::value& filter);

/// Returns `cls` with the soft-delete columns `deleted` (boolean) and
/// `date_deleted` (timestamp, nil while live) appended as read-only fields.
store::class_desc with_deletion_fields(store::class_desc cls);

/// Runs a Get* on a soft-deleting class with the admin-only `deleted` filter.
///
/// Deleted rows never match, except for an admin whose struct filter names
/// `deleted` or `date_deleted` (with any modifier): then every row is a
/// candidate and those keys filter like any other field, so
/// `{'deleted': True}` lists the deleted ones. Admins may also ask for
/// `deleted`/`date_deleted` in return_fields. For everybody else a
/// `{'deleted': False}` key is accepted and ignored, and any other use of
/// those keys in a filter matches nothing.
xmlrpc_c::value get_soft_deleted(store::connection& conn, const store::class_desc& live,
                                 const store::class_desc& with_deleted,
                                 const xmlrpc_c::value& filter,
                                 const xmlrpc_c::value& return_fields, bool admin,
                                 select_options opts = {});

/// Returns the call's time (from the injected clock) as epoch seconds in text
/// form, for `to_timestamp` columns.
std::string now_text(const call_context& ctx);

/// Returns the text value of `column` in `values`, or nullptr when it is not
/// set (an engaged optional when it is set to a non-NULL value).
const store::param* value_of(const row_values& values, const std::string& column);

} // namespace pl::plc::api
