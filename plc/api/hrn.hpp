#pragma once

#include "plc/store/pg.hpp"

#include <string>

namespace pl::plc::api {

// PLCAPI 5.x keeps SFA's "human readable names" as `hrn` tags, rebuilt by the
// methods that change what they derive from: AddSite and UpdateSite
// (login_base), AddNode and UpdateNode (hostname), AddPersonToSite (a
// person's first site) and UpdatePerson (email). The root is PLC_HRN_ROOT
// (`services::hrn_root`).

/// Returns `token` with every dot not already escaped written as `\.`.
std::string escape_hrn_token(const std::string& token);

/// `<root>.<login_base>`.
std::string site_hrn(const std::string& root, const std::string& login_base);

/// `<root>.<login_base>.<hostname, dots escaped>`.
std::string node_hrn(const std::string& root, const std::string& login_base,
                     const std::string& hostname);

/// `<authority>.<local part of email, '.' and '+' as '_'>`, the authority
/// being `<root>.<login_base>`.
std::string person_hrn(const std::string& authority, const std::string& email);

/// Which tag table an hrn goes to.
enum class hrn_of { site, node, person };

/// Sets the `hrn` tag of object `id` to `value`, adding it if missing. Does
/// nothing when there is no `hrn` tag type (an admin deleted it).
void set_hrn(store::connection& conn, hrn_of kind, int id, const std::string& value);

/// Returns the object's `hrn` tag value, or "" when it has none.
std::string get_hrn(store::connection& conn, hrn_of kind, int id);

/// Sets site `site_id`'s hrn from its login_base (AddSite, UpdateSite).
void refresh_site_hrn(store::connection& conn, const std::string& root, int site_id);

/// Sets node `node_id`'s hrn from its site and hostname (AddNode, UpdateNode).
void refresh_node_hrn(store::connection& conn, const std::string& root, int node_id);

/// Sets person `person_id`'s hrn under site `site_id` from the email
/// (AddPersonToSite, when it is the person's first site).
void set_person_hrn(store::connection& conn, const std::string& root, int person_id, int site_id);

/// After an email change: rebuilds an existing person hrn under the same
/// site (the hrn's next-to-last part); a person without one keeps none.
void refresh_person_hrn(store::connection& conn, const std::string& root, int person_id);

} // namespace pl::plc::api
