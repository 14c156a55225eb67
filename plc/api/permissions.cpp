#include "plc/api/permissions.hpp"

#include <algorithm>

namespace pl::plc::api {

namespace {

std::vector<int> int_column(const store::result& res) {
  std::vector<int> out;
  for (int r = 0; r < res.rows(); ++r)
    out.push_back(static_cast<int>(res.integer(r, 0)));
  return out;
}

/// SQL selecting the person ids at the sites selected by `sites_sql`.
std::string persons_at(const std::string& sites_sql) {
  return "SELECT ps.person_id FROM person_site ps WHERE ps.site_id IN (" + sites_sql + ")";
}

std::string member_sites_sql(int person_id) {
  return "SELECT site_id FROM person_site WHERE person_id = " + std::to_string(person_id);
}

} // namespace

bool has_role(const caller& who, role r) {
  return std::find(who.roles.begin(), who.roles.end(), r) != who.roles.end();
}

bool is_admin(const caller& who) {
  return has_role(who, role::admin);
}

std::vector<int> member_site_ids(store::connection& conn, int person_id) {
  return int_column(conn.exec("SELECT site_id FROM person_site WHERE person_id = $1"
                              " ORDER BY is_primary DESC, site_id",
                              {std::to_string(person_id)}));
}

std::vector<int> person_role_ids(store::connection& conn, int person_id) {
  return int_column(conn.exec("SELECT role_id FROM person_role WHERE person_id = $1 ORDER BY 1",
                              {std::to_string(person_id)}));
}

std::string pi_sites_sql(int person_id) {
  std::string id = std::to_string(person_id);
  return member_sites_sql(person_id) +
         " UNION SELECT os.site_id FROM organization_site os JOIN organization_person op"
         " ON op.organization_id = os.organization_id WHERE op.person_id = " +
         id;
}

std::vector<int> pi_site_ids(store::connection& conn, const caller& who) {
  if (!who.person_id || !has_role(who, role::pi))
    return {};
  return int_column(
      conn.exec("SELECT site_id FROM (" + pi_sites_sql(*who.person_id) + ") s ORDER BY 1"));
}

bool can_manage_site(store::connection& conn, const caller& who, int site_id) {
  if (is_admin(who))
    return true;
  auto sites = pi_site_ids(conn, who);
  return std::find(sites.begin(), sites.end(), site_id) != sites.end();
}

bool can_update_person(store::connection& conn, const caller& who, int person_id) {
  if (who.person_id && *who.person_id == person_id)
    return true;
  if (is_admin(who))
    return true;
  if (!who.person_id || !has_role(who, role::pi))
    return false;
  auto res = conn.exec("SELECT EXISTS (SELECT 1 FROM person_site ps WHERE ps.person_id = $1"
                       " AND ps.site_id IN (" +
                           pi_sites_sql(*who.person_id) +
                           "))"
                           " AND NOT EXISTS (SELECT 1 FROM person_role r WHERE r.person_id = $1"
                           " AND r.role_id IN (10, 20))",
                       {std::to_string(person_id)});
  return res.boolean(0, 0);
}

bool can_view_person(store::connection& conn, const caller& who, int person_id) {
  std::string cond = person_view_condition(who);
  if (cond.empty())
    return true;
  auto res =
      conn.exec("SELECT EXISTS (SELECT 1 FROM persons t WHERE t.person_id = $1 AND (" + cond + "))",
                {std::to_string(person_id)});
  return res.boolean(0, 0);
}

std::string person_view_condition(const caller& who) {
  if (is_admin(who) || (who.node_id && !who.person_id))
    return {};
  if (!who.person_id)
    return "FALSE";
  int me = *who.person_id;
  std::string cond = "t.person_id = " + std::to_string(me);
  if (has_role(who, role::pi))
    cond += " OR t.person_id IN (" + persons_at(pi_sites_sql(me)) + ")";
  if (has_role(who, role::tech))
    cond += " OR t.person_id IN (" + persons_at(member_sites_sql(me)) + ")";
  return "(" + cond + ")";
}

} // namespace pl::plc::api
