#include "plc/api/hrn.hpp"

namespace pl::plc::api {

namespace {

struct tag_table {
  const char* table;
  const char* key;
};

tag_table table_of(hrn_of kind) {
  switch (kind) {
  case hrn_of::site:
    return {"site_tag", "site_id"};
  case hrn_of::node:
    return {"node_tag", "node_id"};
  case hrn_of::person:
    break;
  }
  return {"person_tag", "person_id"};
}

} // namespace

std::string escape_hrn_token(const std::string& token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '.' && i > 0 && token[i - 1] != '\\')
      out += '\\';
    out += token[i];
  }
  return out;
}

std::string site_hrn(const std::string& root, const std::string& login_base) {
  return root + "." + login_base;
}

std::string node_hrn(const std::string& root, const std::string& login_base,
                     const std::string& hostname) {
  return root + "." + login_base + "." + escape_hrn_token(hostname);
}

std::string person_hrn(const std::string& authority, const std::string& email) {
  std::string user = email.substr(0, email.find('@'));
  for (char& c : user)
    if (c == '.' || c == '+')
      c = '_';
  return authority + "." + user;
}

void set_hrn(store::connection& conn, hrn_of kind, int id, const std::string& value) {
  auto [table, key] = table_of(kind);
  // One value per object and tag type (UNIQUE): insert or overwrite.
  conn.exec(std::string{"INSERT INTO "} + table + " (" + key +
                ", tag_type_id, value) SELECT $1, tag_type_id, $2 FROM tag_types"
                " WHERE tagname = 'hrn' ON CONFLICT (" +
                key + ", tag_type_id) DO UPDATE SET value = EXCLUDED.value",
            {std::to_string(id), value});
}

std::string get_hrn(store::connection& conn, hrn_of kind, int id) {
  auto [table, key] = table_of(kind);
  auto res = conn.exec(std::string{"SELECT t.value FROM "} + table +
                           " t JOIN tag_types tt ON tt.tag_type_id = t.tag_type_id"
                           " WHERE tt.tagname = 'hrn' AND t." +
                           key + " = $1",
                       {std::to_string(id)});
  return res.rows() == 0 || res.is_null(0, 0) ? std::string{} : std::string{res.text(0, 0)};
}

void refresh_site_hrn(store::connection& conn, const std::string& root, int site_id) {
  auto res =
      conn.exec("SELECT login_base FROM sites WHERE site_id = $1", {std::to_string(site_id)});
  if (res.rows() > 0)
    set_hrn(conn, hrn_of::site, site_id, site_hrn(root, std::string{res.text(0, 0)}));
}

void refresh_node_hrn(store::connection& conn, const std::string& root, int node_id) {
  auto res = conn.exec("SELECT s.login_base, n.hostname FROM nodes n"
                       " JOIN sites s ON s.site_id = n.site_id WHERE n.node_id = $1",
                       {std::to_string(node_id)});
  if (res.rows() > 0)
    set_hrn(conn, hrn_of::node, node_id,
            node_hrn(root, std::string{res.text(0, 0)}, std::string{res.text(0, 1)}));
}

void set_person_hrn(store::connection& conn, const std::string& root, int person_id, int site_id) {
  auto res = conn.exec("SELECT s.login_base, p.email FROM sites s, persons p"
                       " WHERE s.site_id = $1 AND p.person_id = $2",
                       {std::to_string(site_id), std::to_string(person_id)});
  if (res.rows() > 0)
    set_hrn(conn, hrn_of::person, person_id,
            person_hrn(site_hrn(root, std::string{res.text(0, 0)}), std::string{res.text(0, 1)}));
}

void refresh_person_hrn(store::connection& conn, const std::string& root, int person_id) {
  std::string old = get_hrn(conn, hrn_of::person, person_id);
  auto last = old.rfind('.');
  if (last == std::string::npos || last == 0)
    return;
  auto before = old.rfind('.', last - 1);
  std::string login_base =
      old.substr(before == std::string::npos ? 0 : before + 1, last - (before + 1));
  auto res =
      conn.exec("SELECT email FROM persons WHERE person_id = $1", {std::to_string(person_id)});
  if (res.rows() > 0)
    set_hrn(conn, hrn_of::person, person_id,
            person_hrn(site_hrn(root, login_base), std::string{res.text(0, 0)}));
}

} // namespace pl::plc::api
