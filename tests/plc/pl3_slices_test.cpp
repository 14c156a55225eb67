// The PlanetLab 3 slice API (PLCAPI's deprecated Slice* methods) mapped onto
// the slice methods, and the PL3 XML tickets signed with xmlsec: every
// method's roles, arguments, results and faults through the dispatcher.
#include "slice_world.hpp"

#include "plc/api/pl3_slices.hpp"
#include "plc/api/pl3_ticket.hpp"

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

using namespace pl::test;
namespace api = pl::plc::api;
namespace fs = std::filesystem;

namespace {

/// A key pair made once for the whole run (RSA generation is slow), in a
/// directory removed at exit, and a second key that signs nothing here.
struct key_files {
  fs::path dir;
  fs::path key, pub, other_key, other_pub;
  std::shared_ptr<const api::pl3_ticket_signer> signer;

  key_files() {
    char tmpl[] = "/tmp/pl3-ticket-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    key = dir / "keys" / "ticket.key";
    pub = api::pl3_ticket_public_key_path(key);
    other_key = dir / "other.key";
    other_pub = dir / "other.pub";
    REQUIRE(api::ensure_pl3_ticket_key(key));
    api::generate_pl3_ticket_key(other_key, other_pub);
    signer = std::make_shared<api::pl3_ticket_signer>(key);
  }
  ~key_files() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

key_files& keys() {
  static key_files k;
  return k;
}

std::string read_text(const fs::path& p) {
  std::ifstream in{p};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs `xmlsec1 --verify --pubkey-pem KEY` on `xml`; returns its exit status.
int xmlsec1_verify(const std::string& xml, const fs::path& pub) {
  fs::path file = keys().dir / "ticket.xml";
  std::ofstream{file} << xml;
  std::string cmd = "xmlsec1 --verify --pubkey-pem '" + pub.string() + "' '" + file.string() +
                    "' >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  REQUIRE(status != -1);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

bool have_xmlsec1() {
  return std::system("command -v xmlsec1 >/dev/null 2>&1") == 0;
}

std::vector<std::string> strs(const xv& v) {
  std::vector<std::string> out;
  for (auto& x : items(v))
    out.push_back(str_of(x));
  return out;
}

struct pl3_world : slice_world {
  pl3_world() { api::add_pl3_slice_methods(api, keys().signer); }

  std::string name_a(const std::string& suffix) { return sname(base_a, suffix); }
};

/// A world whose plcd has no ticket key configured.
struct keyless_world : slice_world {
  keyless_world() { api::add_pl3_slice_methods(api, nullptr); }
};

// --- the reference's method table ---

struct ref_line {
  std::string name, roles;
  std::vector<std::string> args; // without auth
  std::size_t required = 0;
};

/// Reads the Slice* compatibility lines of the 4.0 method table, resolving
/// "(inherits X)" from X's line.
std::map<std::string, ref_line> reference_lines() {
  std::ifstream in{PL_PLCAPI_METHODS_40};
  REQUIRE(in.good());
  std::map<std::string, ref_line> all;
  static const std::regex re{
      R"(^(\w+)\s+roles=(\[[^\]]*\]|\(inherits \w+\))\s+args=\((.*)\)(?:\s+\[deprecated\])?\s*$)"};
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, re))
      continue;
    ref_line r{m[1].str(), m[2].str(), {}, 0};
    std::string args = m[3].str();
    if (args == "(inherits)") {
      r.args = {"(inherits)"};
    } else {
      std::istringstream list{args};
      for (std::string a; std::getline(list, a, ',');) {
        a.erase(0, a.find_first_not_of(' '));
        bool optional = a.find('=') != std::string::npos;
        a = a.substr(0, a.find_first_of(" ="));
        if (a == "auth" || a.empty())
          continue;
        r.args.push_back(a);
        if (!optional)
          ++r.required;
      }
    }
    all[r.name] = r;
  }
  for (int round = 0; round < 3; ++round)
    for (auto& [name, r] : all) {
      std::smatch m;
      static const std::regex inherits{R"(\(inherits (\w+)\))"};
      if (std::regex_match(r.roles, m, inherits) && all.count(m[1].str()))
        r.roles = all[m[1].str()].roles;
      if (r.args == std::vector<std::string>{"(inherits)"}) {
        static const std::map<std::string, std::string> parent = {
            {"SliceTicketGet", "SliceGetTicket"}};
        auto p = parent.find(name);
        if (p != parent.end() && all.count(p->second)) {
          r.args = all[p->second].args;
          r.required = all[p->second].required;
        }
      }
    }
  std::map<std::string, ref_line> out;
  for (auto& [name, r] : all)
    if (std::regex_match(name, std::regex{"Slice[A-Z].*"}) &&
        name.rfind("SliceAttribute", 0) != 0 && name.rfind("SliceTag", 0) != 0)
      out[name] = r;
  return out;
}

std::set<std::string> role_names(const std::string& list) {
  std::set<std::string> out;
  std::string inner = list.substr(1, list.size() - 2);
  std::istringstream roles{inner};
  for (std::string r; std::getline(roles, r, ',');) {
    r.erase(0, r.find_first_not_of(' '));
    r.erase(r.find_last_not_of(' ') + 1);
    out.insert(r);
  }
  return out;
}

/// An argument that changes nothing whoever calls.
xv harmless(const std::string& arg) {
  if (arg == "name" || arg == "slice_name" || arg == "slice_id_or_name")
    return s("nosuchsite_x");
  if (arg == "slice_fields")
    return obj({});
  if (arg == "nodes_list" || arg == "user_list")
    return arr({});
  if (arg == "email")
    return s("nobody@nowhere.invalid");
  if (arg == "slice_expires")
    return i(0);
  if (arg == "url" || arg == "description" || arg == "prefix")
    return s("zz");
  return nil; // slice_name_list, return_*: optional, nil allowed
}

} // namespace

TEST_CASE_METHOD(pl3_world, "the PL3 methods have the reference's names, roles and arguments") {
  auto ref = reference_lines();
  REQUIRE(ref.size() == 16);
  std::set<std::string> listed;
  for (auto& v : items(ok("admin", "system.listMethods", {})))
    listed.insert(str_of(v));
  for (const auto& [name, m] : ref) {
    INFO(name);
    REQUIRE(listed.count(name) == 1);
    REQUIRE(m.roles.front() == '[');
    auto roles = role_names(m.roles);
    std::set<std::size_t> counts;
    for (auto& sig : items(ok("admin", "system.methodSignature", {s(name)})))
      counts.insert(items(sig).size() - 1);
    std::set<std::size_t> want;
    for (std::size_t n = m.required; n <= m.args.size(); ++n)
      want.insert(n + 1);
    CHECK(counts == want);
    std::vector<xv> args;
    for (const auto& a : m.args)
      args.push_back(harmless(a));
    for (const char* actor : {"admin", "pi", "user", "tech", "anonymous"}) {
      INFO(actor);
      int code = fault(actor, name, args);
      CHECK((code == 103) == (roles.count(actor) == 0));
    }
    args.push_back(i(1));
    CHECK(fault("admin", name, args) == 101);
  }
  // Nothing was created by the harmless calls.
  CHECK(items(ok("admin", "GetSlices", {arr({s("nosuchsite_x")})})).empty());
}

TEST_CASE_METHOD(pl3_world, "SliceCreate is AddSlice with the name first") {
  int id = int_of(ok(
      "pi", "SliceCreate",
      {s(name_a("one")),
       obj({{"description", s("d")}, {"url", s("http://u")}, {"instantiation", s("delegated")}})}));
  auto row = slice("admin", id);
  CHECK(str_of(member(row, "name")) == name_a("one"));
  CHECK(str_of(member(row, "instantiation")) == "delegated");
  CHECK(str_of(member(row, "description")) == "d");
  CHECK(int_of(member(row, "expires")) == now() + 2 * week);
  // slice_fields may be left out; a name inside them yields to the argument.
  int two = int_of(ok("admin", "SliceCreate", {s(name_a("two"))}));
  CHECK(str_of(member(slice("admin", two), "name")) == name_a("two"));
  int three =
      int_of(ok("admin", "SliceCreate", {s(name_a("three")), obj({{"name", s(name_a("other"))}})}));
  CHECK(str_of(member(slice("admin", three), "name")) == name_a("three"));
  // AddSlice's rules and faults.
  CHECK(fault("pi_b", "SliceCreate", {s(name_a("x"))}) == 108);
  CHECK(fault("user", "SliceCreate", {s(name_a("x"))}) == 103);
  auto bad = call("admin", "SliceCreate", {s(base_a + "_a b")});
  CHECK(bad.code == 102);
  CHECK_THAT(bad.text, Catch::Contains("Invalid slice name"));
  CHECK(fault("admin", "SliceCreate", {s(name_a("one"))}) == 102); // in use
  CHECK(fault("admin", "SliceCreate", {i(5)}) == 102);             // a name, not an id
  CHECK(fault("admin", "SliceCreate", {s(name_a("k")), obj({{"bogus", s("x")}})}) == 102);
  CHECK(ids("admin", "GetSlices", {obj({{"site_id", i(site_a)}})}, "slice_id") ==
        std::vector<int>{id, two, three});
}

TEST_CASE_METHOD(pl3_world, "SliceDelete is DeleteSlice for admins and PIs") {
  int id = add_slice("pi", "gone");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(id)});
  CHECK(fault("user", "SliceDelete", {s(name_a("gone"))}) == 103); // DeleteSlice admits users
  CHECK(fault("pi_b", "SliceDelete", {s(name_a("gone"))}) == 108);
  CHECK(fault("pi", "SliceDelete", {i(id)}) == 102); // by name only
  CHECK(fault("pi", "SliceDelete", {s(name_a("nosuch"))}) == 102);
  CHECK(int_of(ok("pi", "SliceDelete", {s(name_a("gone"))})) == 1);
  CHECK(items(ok("admin", "GetSlices", {arr({i(id)})})).empty());
  CHECK(fault("pi", "SliceDelete", {s(name_a("gone"))}) == 102);
}

TEST_CASE_METHOD(pl3_world, "SliceInfo shows visible slices with users and nodes") {
  int mine = add_slice("pi", "mine");
  int theirs = add_slice("pi", "theirs");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(mine)});
  ok("pi", "AddPersonToSlice", {i(id_of("pi")), i(mine)});
  int n1 = add_node(site_a, "n1"), n2 = add_node(site_a, "n2");
  ok("pi", "AddSliceToNodes", {i(mine), arr({i(n2), i(n1)})});
  int b_slice = int_of(ok("pi_b", "SliceCreate", {s(sname(base_b, "b"))}));
  ok("admin", "AddSliceToNodes", {i(b_slice), arr({i(n1)})});

  auto rows = items(ok("user", "SliceInfo", {}));
  REQUIRE(rows.size() == 1);
  auto& row = rows[0];
  CHECK(int_of(member(row, "slice_id")) == mine);
  CHECK(str_of(member(row, "name")) == name_a("mine"));
  CHECK_FALSE(has_key(row, "node_ids"));
  CHECK_FALSE(has_key(row, "person_ids"));
  CHECK(has_key(row, "slice_tag_ids"));
  CHECK(has_key(row, "expires"));
  CHECK(strs(member(row, "users")) == std::vector<std::string>{email["pi"], email["user"]});
  CHECK(strs(member(row, "nodes")) == std::vector<std::string>{host("n1"), host("n2")});
  // The flags leave users or nodes out; nil means yes.
  auto bare = items(ok("user", "SliceInfo", {arr({s(name_a("mine"))}), b(false), b(false)}))[0];
  CHECK_FALSE(has_key(bare, "users"));
  CHECK_FALSE(has_key(bare, "nodes"));
  auto half = items(ok("user", "SliceInfo", {nil, nil, b(false)}))[0];
  CHECK(has_key(half, "users"));
  CHECK_FALSE(has_key(half, "nodes"));
  // A PI sees the site's slices; another site's PI none of them; an admin all.
  CHECK(ids("pi", "SliceInfo", {}, "slice_id") == std::vector<int>{mine, theirs});
  CHECK(ids("pi_b", "SliceInfo", {arr({s(name_a("mine"))})}, "slice_id").empty());
  CHECK(ids("admin", "SliceInfo", {arr({s(name_a("theirs")), s(sname(base_b, "b"))})},
            "slice_id") == std::vector<int>{theirs, b_slice});
  // GetSlices' tech rule is not SliceInfo's: a PI and tech of site A sees
  // site B's slice on its node in GetSlices only.
  add_actor("pitech", {20, 40}, base_a);
  auto seen = ids("pitech", "GetSlices", {}, "slice_id");
  CHECK(std::count(seen.begin(), seen.end(), b_slice) == 1);
  CHECK(ids("pitech", "SliceInfo", {}, "slice_id") == std::vector<int>{mine, theirs});
  // No slice of that name at all: 102; a list of names only.
  auto none = call("user", "SliceInfo", {arr({s(name_a("nosuch"))})});
  CHECK(none.code == 102);
  CHECK_THAT(none.text, Catch::Contains("No such slice"));
  CHECK(fault("user", "SliceInfo", {arr({})}) == 102);
  CHECK(fault("user", "SliceInfo", {arr({i(mine)})}) == 102);
  CHECK(fault("user", "SliceInfo", {nil, s("yes")}) == 102);
  CHECK(fault("tech", "SliceInfo", {}) == 103);
}

TEST_CASE_METHOD(pl3_world, "SliceExtendedInfo adds ids and attributes") {
  int id = add_slice("pi", "ext");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(id)});
  int n = add_node(site_a, "n");
  ok("pi", "AddSliceToNodes", {i(id), arr({i(n)})});
  ok("admin", "AddSliceTag", {i(id), s("cpu_share"), s("32")});
  ok("admin", "AddSliceTag", {i(id), s("cpu_share"), s("64"), i(n)});
  auto row = items(ok("user", "SliceExtendedInfo", {arr({s(name_a("ext"))})}))[0];
  CHECK_FALSE(has_key(row, "slice_tag_ids"));
  CHECK_FALSE(has_key(row, "node_ids"));
  auto users = items(member(row, "users"));
  REQUIRE(users.size() == 1);
  CHECK(str_of(member(users[0], "email")) == email["user"]);
  CHECK(int_of(member(users[0], "person_id")) == id_of("user"));
  auto nodes = items(member(row, "nodes"));
  REQUIRE(nodes.size() == 1);
  CHECK(str_of(member(nodes[0], "hostname")) == host("n"));
  CHECK(int_of(member(nodes[0], "node_id")) == n);
  auto attributes = items(member(row, "attributes"));
  REQUIRE(attributes.size() == 2); // every tag, as the original
  CHECK(str_of(member(attributes[0], "name")) == "cpu_share");
  CHECK(str_of(member(attributes[0], "value")) == "32");
  CHECK(str_of(member(attributes[1], "value")) == "64");
  auto plain = items(ok("user", "SliceExtendedInfo", {nil, nil, nil, b(false)}))[0];
  CHECK_FALSE(has_key(plain, "attributes"));
  CHECK(has_key(plain, "users"));
  CHECK(fault("user", "SliceExtendedInfo", {nil, nil, nil, i(0)}) == 102);
  CHECK(fault("user_b", "SliceExtendedInfo", {arr({s(name_a("nosuch"))})}) == 102);
  CHECK(items(ok("user_b", "SliceExtendedInfo", {arr({s(name_a("ext"))})})).empty());
}

TEST_CASE_METHOD(pl3_world, "SliceListNames and SliceListUserSlices list names") {
  add_slice("pi", "alpha");
  add_slice("pi", "alps");
  int beta = add_slice("pi", "beta");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(beta)});
  using names = std::vector<std::string>;
  CHECK(strs(ok("pi", "SliceListNames", {})) ==
        names{name_a("alpha"), name_a("alps"), name_a("beta")});
  CHECK(strs(ok("pi", "SliceListNames", {s(name_a("al"))})) ==
        names{name_a("alpha"), name_a("alps")});
  CHECK(strs(ok("pi", "SliceListNames", {nil})).size() == 3);
  CHECK(strs(ok("pi", "SliceListNames", {s("")})).size() == 3);
  CHECK(strs(ok("user", "SliceListNames", {})) == names{name_a("beta")});
  auto none = call("pi", "SliceListNames", {s(name_a("zz"))});
  CHECK(none.code == 102);
  CHECK_THAT(none.text, Catch::Contains("No such slice"));
  CHECK(fault("user_b", "SliceListNames", {}) == 102); // sees none
  CHECK(fault("pi", "SliceListNames", {i(3)}) == 102);

  CHECK(strs(ok("admin", "SliceListUserSlices", {s(email["user"])})) == names{name_a("beta")});
  CHECK(strs(ok("user", "SliceListUserSlices", {s(email["user"])})) == names{name_a("beta")});
  CHECK(strs(ok("admin", "SliceListUserSlices", {s(email["pi"])})).empty());
  CHECK(strs(ok("admin", "SliceListUserSlices", {s("nobody@nowhere.invalid")})).empty());
  CHECK(strs(ok("user_b", "SliceListUserSlices", {s(email["user"])})).empty()); // not visible
  CHECK(fault("admin", "SliceListUserSlices", {i(id_of("user"))}) == 102);
}

TEST_CASE_METHOD(pl3_world, "SliceNodesAdd, SliceNodesDel and SliceNodesList") {
  int id = add_slice("pi", "nodes");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(id)});
  add_node(site_a, "n1");
  add_node(site_b, "n2");
  using names = std::vector<std::string>;
  CHECK(int_of(ok("user", "SliceNodesAdd",
                  {s(name_a("nodes")), arr({s(host("n2")), s(host("n1"))})})) == 1);
  CHECK(strs(ok("user", "SliceNodesList", {s(name_a("nodes"))})) == names{host("n1"), host("n2")});
  // Unknown hostnames: 102 and nothing added; ids are not hostnames.
  add_node(site_a, "n3");
  CHECK(fault("user", "SliceNodesAdd",
              {s(name_a("nodes")), arr({s(host("n3")), s("nosuch.example.org")})}) == 102);
  CHECK(fault("user", "SliceNodesAdd", {s(name_a("nodes")), arr({i(1)})}) == 102);
  CHECK(strs(ok("user", "SliceNodesList", {s(name_a("nodes"))})).size() == 2);
  CHECK(fault("user_b", "SliceNodesAdd", {s(name_a("nodes")), arr({s(host("n3"))})}) == 108);
  CHECK(fault("tech", "SliceNodesAdd", {s(name_a("nodes")), arr({s(host("n3"))})}) == 103);
  CHECK(int_of(ok("user", "SliceNodesDel", {s(name_a("nodes")), arr({s(host("n1"))})})) == 1);
  CHECK(strs(ok("user", "SliceNodesList", {s(name_a("nodes"))})) == names{host("n2")});
  CHECK(fault("user_b", "SliceNodesDel", {s(name_a("nodes")), arr({s(host("n2"))})}) == 108);
  // A slice the caller cannot see, or none: an empty list.
  CHECK(strs(ok("user_b", "SliceNodesList", {s(name_a("nodes"))})).empty());
  CHECK(strs(ok("user", "SliceNodesList", {s(name_a("nosuch"))})).empty());
  CHECK(fault("user", "SliceNodesList", {i(id)}) == 102);
}

TEST_CASE_METHOD(pl3_world, "SliceRenew and SliceUpdate follow UpdateSlice's rules") {
  int id = add_slice("pi", "renew");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(id)});
  auto expires = [&] { return int_of(member(slice("admin", id), "expires")); };
  CHECK(int_of(ok("user", "SliceRenew", {s(name_a("renew")), i(t0 + 4 * week)})) == 1);
  CHECK(expires() == t0 + 4 * week);
  auto far = call("user", "SliceRenew", {s(name_a("renew")), i(t0 + 9 * week)});
  CHECK(far.code == 102);
  CHECK_THAT(far.text, Catch::Contains("8 weeks"));
  CHECK(expires() == t0 + 4 * week);
  CHECK(fault("user", "SliceRenew", {s(name_a("renew")), i(t0 - 1)}) == 102);
  CHECK(fault("user_b", "SliceRenew", {s(name_a("renew")), i(t0 + week)}) == 108);
  CHECK(fault("user", "SliceRenew", {s(name_a("renew")), s("soon")}) == 102);
  CHECK(int_of(ok("admin", "SliceRenew", {s(name_a("renew")), i(t0 + 20 * week)})) == 1);
  CHECK(expires() == t0 + 20 * week);

  CHECK(int_of(ok("user", "SliceUpdate", {s(name_a("renew")), s("http://new"), s("new")})) == 1);
  auto row = slice("admin", id);
  CHECK(str_of(member(row, "url")) == "http://new");
  CHECK(str_of(member(row, "description")) == "new");
  // Renewal needs a url and a description, which SliceUpdate may clear.
  CHECK(int_of(ok("user", "SliceUpdate", {s(name_a("renew")), nil, s("")})) == 1);
  CHECK(member(slice("admin", id), "url").type() == xv::TYPE_NIL);
  auto empty = call("admin", "SliceRenew", {s(name_a("renew")), i(t0 + 21 * week)});
  CHECK(empty.code == 102);
  CHECK_THAT(empty.text, Catch::Contains("empty description or URL"));
  CHECK(fault("user_b", "SliceUpdate", {s(name_a("renew")), s("u"), s("d")}) == 108);
  CHECK(fault("user", "SliceUpdate", {s(name_a("renew")), i(1), s("d")}) == 102);
  CHECK(fault("user", "SliceUpdate", {s(name_a("renew")), s("u")}) == 101);
}

TEST_CASE_METHOD(pl3_world, "SliceUserAdd, SliceUserDel and SliceUsersList") {
  int id = add_slice("pi", "users");
  using names = std::vector<std::string>;
  CHECK(int_of(ok("pi", "SliceUserAdd",
                  {s(name_a("users")), arr({s(email["user"]), s(email["tech"])})})) == 1);
  CHECK(strs(ok("pi", "SliceUsersList", {s(name_a("users"))})) ==
        names{email["user"], email["tech"]});
  CHECK(ints(member(slice("admin", id), "person_ids")) ==
        std::vector<int>{id_of("user"), id_of("tech")});
  // One unknown address: 102 and no one is added, wherever it stands.
  auto bad = call("pi", "SliceUserAdd",
                  {s(name_a("users")), arr({s(email["pi"]), s("nobody@nowhere.invalid")})});
  CHECK(bad.code == 102);
  CHECK(ints(member(slice("admin", id), "person_ids")).size() == 2);
  CHECK(fault("pi", "SliceUserAdd", {s(name_a("users")), arr({s("nobody@nowhere.invalid")})}) ==
        102);
  // Another site's PI, a user: refused; an unknown slice: 102 even with no users.
  CHECK(fault("pi_b", "SliceUserAdd", {s(name_a("users")), arr({s(email["pi"])})}) == 108);
  CHECK(fault("pi_b", "SliceUserAdd", {s(name_a("users")), arr({})}) == 108);
  CHECK(fault("user", "SliceUserAdd", {s(name_a("users")), arr({s(email["pi"])})}) == 103);
  CHECK(fault("pi", "SliceUserAdd", {s(name_a("nosuch")), arr({})}) == 102);
  CHECK(fault("pi", "SliceUserAdd", {s(name_a("users")), arr({i(id_of("pi"))})}) == 102);
  CHECK(int_of(ok("pi", "SliceUserAdd", {s(name_a("users")), arr({})})) == 1);
  // Users see the members as GetPersons shows them; other sites' users see no slice.
  CHECK(strs(ok("user", "SliceUsersList", {s(name_a("users"))})) == names{email["user"]});
  CHECK(strs(ok("user_b", "SliceUsersList", {s(name_a("users"))})).empty());
  CHECK(strs(ok("pi", "SliceUsersList", {s(name_a("nosuch"))})).empty());

  // Removing: a non-member is no error; all or none.
  CHECK(fault("pi", "SliceUserDel",
              {s(name_a("users")), arr({s(email["user"]), s("nobody@nowhere.invalid")})}) == 102);
  CHECK(ints(member(slice("admin", id), "person_ids")).size() == 2);
  CHECK(int_of(ok("pi", "SliceUserDel",
                  {s(name_a("users")), arr({s(email["user"]), s(email["pi"])})})) == 1);
  CHECK(strs(ok("pi", "SliceUsersList", {s(name_a("users"))})) == names{email["tech"]});
  CHECK(fault("pi_b", "SliceUserDel", {s(name_a("users")), arr({s(email["tech"])})}) == 108);
  CHECK(fault("user", "SliceUserDel", {s(name_a("users")), arr({s(email["tech"])})}) == 103);
}

TEST_CASE("PL3 resources carry the PL3 names and units") {
  using r = api::pl3_resource;
  CHECK(api::pl3_resource_of("cpu_share", "32") == r{"nm_cpu_share", "cpu_share", "integer", "32"});
  CHECK(api::pl3_resource_of("net_share", "3") == r{"nm_net_share", "rate", "integer", "3"});
  CHECK(api::pl3_resource_of("net_min_rate", "8") ==
        r{"nm_net_min_rate", "rate", "integer", "8000"});
  CHECK(api::pl3_resource_of("net_max_rate", "1000") ==
        r{"nm_net_max_rate", "rate", "integer", "1000000"});
  // 5662310 KiB a day: 5662310 * 8000 / 86400 = 524288.0 bit/s; truncated.
  CHECK(api::pl3_resource_of("net_max_kbyte", "5662310") ==
        r{"nm_net_avg_rate", "rate", "integer", "524287"});
  CHECK(api::pl3_resource_of("net_i2_share", "2") ==
        r{"nm_net_exempt_share", "rate", "integer", "2"});
  CHECK(api::pl3_resource_of("net_i2_min_rate", "5") ==
        r{"nm_net_exempt_min_rate", "rate", "integer", "5000"});
  CHECK(api::pl3_resource_of("net_i2_max_rate", "7") ==
        r{"nm_net_exempt_max_rate", "rate", "integer", "7000"});
  CHECK(api::pl3_resource_of("net_i2_max_kbyte", "10800") ==
        r{"nm_net_exempt_avg_rate", "rate", "integer", "1000"});
  CHECK(api::pl3_resource_of("disk_max", "5000000") ==
        r{"nm_disk_quota", "quota", "integer", "5000000"});
  CHECK(api::pl3_resource_of("plc_agent_version", "1.2") ==
        r{"plc_agent_version", "version", "string", "1.2"});
  CHECK(api::pl3_resource_of("plc_slice_type", "vserver") ==
        r{"plc_slice_type", "type", "string", "vserver"});
  CHECK(api::pl3_resource_of("plc_ticket_pubkey", "k") ==
        r{"plc_ticket_pubkey", "key", "string", "k"});
  CHECK(api::pl3_resource_of("vref", "f8") == r{"vref", "vref", "string", "f8"});
  CHECK(api::pl3_resource_of("cpu_share", "lots") ==
        r{"nm_cpu_share", "cpu_share", "string", "lots"});
}

TEST_CASE("the PL3 ticket template is the original's layout") {
  api::pl3_ticket t;
  t.slice_id = 12;
  t.name = "site_slice";
  t.expires = 1138712648;
  t.nodes = {{3, "node.site.org"}};
  t.users = {{7, "a&b@site.org"}};
  t.rspec = {{"nm_cpu_share", "cpu_share", "integer", "32"}, {"x", "x", "string", "<\"'>"}};
  const std::string want = R"(<?xml version="1.0" encoding="utf-8"?>
<ticket>
  <slice id="12" name="site_slice" expiry="1138712648">
    <nodes>
      <node id="3" hostname="node.site.org"/>
    </nodes>
    <users>
      <user person_id="7" email="a&amp;b@site.org"/>
    </users>
    <rspec>
      <resource name="nm_cpu_share">
        <value name="cpu_share" type="integer">32</value>
      </resource>
      <resource name="x">
        <value name="x" type="string">&lt;&quot;&apos;&gt;</value>
      </resource>
    </rspec>
  </slice>
  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
    <SignedInfo>
      <CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
      <SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>
      <Reference URI="">
        <Transforms>
          <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
        </Transforms>
        <DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>
        <DigestValue/>
      </Reference>
    </SignedInfo>
    <SignatureValue/>
  </Signature>
</ticket>
)";
  CHECK(api::pl3_ticket_template(t) == want);
  // Signed, it verifies with the public key and with the private key, not
  // with another key; control characters cannot break the XML.
  t.name = std::string{"odd\x01name\n"};
  std::string signed_xml = keys().signer->sign(api::pl3_ticket_template(t));
  CHECK(api::verify_pl3_ticket(signed_xml, read_text(keys().pub)));
  CHECK(api::verify_pl3_ticket(signed_xml, keys().signer->public_key_pem()));
  CHECK(api::verify_pl3_ticket(signed_xml, read_text(keys().key)));
  CHECK_FALSE(api::verify_pl3_ticket(signed_xml, read_text(keys().other_pub)));
  CHECK_FALSE(api::verify_pl3_ticket("not xml", read_text(keys().pub)));
  CHECK_FALSE(api::verify_pl3_ticket(signed_xml, "not a key"));
  CHECK(keys().signer->public_key_pem() == read_text(keys().pub));
  // RSA PKCS#1 v1.5 is deterministic: the original's `xmlsec1 --sign
  // --privkey-pem KEY` on the same template writes the same bytes.
  REQUIRE(have_xmlsec1());
  fs::path tmpl = keys().dir / "template.xml", out = keys().dir / "cli-signed.xml";
  std::ofstream{tmpl} << api::pl3_ticket_template(t);
  REQUIRE(std::system(("xmlsec1 --sign --privkey-pem '" + keys().key.string() + "' '" +
                       tmpl.string() + "' > '" + out.string() + "' 2>/dev/null")
                          .c_str()) == 0);
  CHECK(read_text(out) == signed_xml);
}

TEST_CASE("one signer serves several threads at once") {
  api::pl3_ticket t;
  t.name = "site_slice";
  std::vector<std::string> out(4 * 5);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int n = 0; n < 5; ++n) {
        api::pl3_ticket mine = t;
        mine.slice_id = k * 5 + n;
        out[k * 5 + n] = keys().signer->sign(api::pl3_ticket_template(mine));
      }
    });
  for (auto& th : threads)
    th.join();
  for (std::size_t k = 0; k < out.size(); ++k) {
    INFO(k);
    CHECK_THAT(out[k], Catch::Contains("<slice id=\"" + std::to_string(k) + "\""));
    CHECK(api::verify_pl3_ticket(out[k], keys().signer->public_key_pem()));
  }
}

TEST_CASE("PL3 ticket keys: files, modes and refusals") {
  struct stat st {};
  REQUIRE(::stat(keys().key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(keys().pub.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  CHECK_FALSE(api::ensure_pl3_ticket_key(keys().key)); // kept, not replaced
  CHECK_THROWS_WITH(api::pl3_ticket_signer(keys().dir / "missing.key"),
                    Catch::Contains("missing.key"));
  CHECK_THROWS(api::pl3_ticket_signer(keys().pub)); // a public key signs nothing
  fs::path ed = keys().dir / "ed25519.key";
  REQUIRE(std::system(("openssl genpkey -algorithm ed25519 -out '" + ed.string() + "' 2>/dev/null")
                          .c_str()) == 0);
  CHECK_THROWS_WITH(api::pl3_ticket_signer(ed), Catch::Contains("RSA"));
}

TEST_CASE_METHOD(pl3_world, "SliceGetTicket signs the PL3 ticket of a delegated slice") {
  int id = add_slice("pi", "deleg", {{"instantiation", s("delegated")}});
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(id)});
  ok("pi", "AddPersonToSlice", {i(id_of("pi")), i(id)});
  int n1 = add_node(site_a, "n1"), n2 = add_node(site_b, "n2");
  ok("pi", "AddSliceToNodes", {i(id), arr({i(n2), i(n1)})});
  ok("admin", "AddSliceTag", {i(id), s("cpu_share"), s("32")});
  ok("admin", "AddSliceTag", {i(id), s("net_max_rate"), s("2000")});
  ok("admin", "AddSliceTag", {i(id), s("disk_max"), s("1000000")});
  ok("admin", "AddSliceTag", {i(id), s("cpu_share"), s("99"), i(n1)}); // a sliver's: left out
  int script = int_of(ok("admin", "AddInitScript",
                         {obj({{"name", s("boot" + sfx)}, {"script", s("#!/bin/sh\n")}})}));
  ok("admin", "AddSliceTag", {i(id), s("initscript"), s("boot" + sfx)});
  ok("admin", "AddSliceTag", {i(id), s("vref"), s("f8")});

  std::string ticket = str_of(ok("user", "SliceGetTicket", {s(name_a("deleg"))}));
  INFO(ticket);
  CHECK(ticket.rfind("<?xml", 0) == 0);
  CHECK_THAT(ticket,
             Catch::Contains("<slice id=\"" + std::to_string(id) + "\" name=\"" + name_a("deleg") +
                             "\" expiry=\"" + std::to_string(t0 + 2 * week) + "\">"));
  CHECK_THAT(ticket, Catch::Contains("<node id=\"" + std::to_string(n1) + "\" hostname=\"" +
                                     host("n1") + "\"/>\n      <node id=\"" + std::to_string(n2) +
                                     "\" hostname=\"" + host("n2") + "\"/>"));
  CHECK_THAT(ticket, Catch::Contains("<user person_id=\"" + std::to_string(id_of("pi")) +
                                     "\" email=\"" + email["pi"] + "\"/>"));
  CHECK_THAT(ticket, Catch::Contains("<user person_id=\"" + std::to_string(id_of("user")) +
                                     "\" email=\"" + email["user"] + "\"/>"));
  const std::string rspec = R"(    <rspec>
      <resource name="nm_cpu_share">
        <value name="cpu_share" type="integer">32</value>
      </resource>
      <resource name="nm_net_max_rate">
        <value name="rate" type="integer">2000000</value>
      </resource>
      <resource name="nm_disk_quota">
        <value name="quota" type="integer">1000000</value>
      </resource>
      <resource name="initscript">
        <value name="initscript_id" type="integer">)" +
                            std::to_string(script) + R"(</value>
      </resource>
      <resource name="vref">
        <value name="vref" type="string">f8</value>
      </resource>
    </rspec>)";
  CHECK_THAT(ticket, Catch::Contains(rspec));
  CHECK_THAT(ticket, Catch::Contains("<DigestValue>"));
  CHECK_THAT(ticket, Catch::Contains("<SignatureValue>"));
  CHECK(api::verify_pl3_ticket(ticket, read_text(keys().pub)));

  // Any change to the signed content fails; so does another key.
  auto tampered = std::regex_replace(ticket, std::regex{">32<"}, ">64<");
  REQUIRE(tampered != ticket);
  CHECK_FALSE(api::verify_pl3_ticket(tampered, read_text(keys().pub)));
  auto renamed = std::regex_replace(ticket, std::regex{"expiry=\"\\d+\""}, "expiry=\"9999999999\"");
  REQUIRE(renamed != ticket);
  CHECK_FALSE(api::verify_pl3_ticket(renamed, read_text(keys().pub)));
  CHECK_FALSE(api::verify_pl3_ticket(ticket, read_text(keys().other_pub)));
  // Nor can anything be added outside the signed slice element.
  auto doubled = std::regex_replace(ticket, std::regex{"<ticket>"},
                                    "<ticket><slice id=\"1\" name=\"x_y\" expiry=\"1\"/>");
  CHECK_FALSE(api::verify_pl3_ticket(doubled, read_text(keys().pub)));

  // The stock xmlsec1 tool agrees (as a PL3 node manager would check it).
  REQUIRE(have_xmlsec1()); // scripts/bootstrap installs it
  CHECK(xmlsec1_verify(ticket, keys().pub) == 0);
  CHECK(xmlsec1_verify(tampered, keys().pub) != 0);
  CHECK(xmlsec1_verify(ticket, keys().other_pub) != 0);

  // SliceTicketGet is the same method; by id too; PIs of the site and admins.
  CHECK(api::verify_pl3_ticket(str_of(ok("pi", "SliceTicketGet", {i(id)})), read_text(keys().pub)));
  CHECK(api::verify_pl3_ticket(str_of(ok("admin", "SliceGetTicket", {i(id)})),
                               read_text(keys().pub)));
}

TEST_CASE_METHOD(pl3_world, "SliceGetTicket refuses other slices and callers") {
  int plain = add_slice("pi", "plain");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(plain)});
  for (const char* method : {"SliceGetTicket", "SliceTicketGet"}) {
    INFO(method);
    auto r = call("user", method, {s(name_a("plain"))});
    CHECK(r.code == 102);
    CHECK_THAT(r.text, Catch::Contains("Not in delegated state"));
    for (const char* state : {"nm-controller", "not-instantiated"}) {
      ok("admin", "UpdateSlice", {i(plain), obj({{"instantiation", s(state)}})});
      CHECK_THAT(call("user", method, {i(plain)}).text, Catch::Contains("Not in delegated state"));
    }
    ok("admin", "UpdateSlice", {i(plain), obj({{"instantiation", s("plc-instantiated")}})});
    CHECK_THAT(call("user", method, {s(name_a("nosuch"))}).text, Catch::Contains("No such slice"));
    CHECK(fault("user", method, {b(true)}) == 102);
    CHECK(fault("tech", method, {i(plain)}) == 103);
  }
  int deleg = add_slice("pi", "deleg", {{"instantiation", s("delegated")}});
  CHECK(fault("user", "SliceGetTicket", {i(deleg)}) == 108);   // not a member
  CHECK(fault("pi_b", "SliceGetTicket", {i(deleg)}) == 108);   // another site
  CHECK(fault("user_b", "SliceTicketGet", {i(deleg)}) == 108); // another site
  // Expired slices have no ticket.
  clock.advance(std::chrono::seconds{2 * week});
  CHECK(fault("pi", "SliceGetTicket", {i(deleg)}) == 102);
}

TEST_CASE_METHOD(keyless_world, "without a ticket key SliceGetTicket faults 111") {
  int id = int_of(ok("pi", "SliceCreate",
                     {s(sname(base_a, "nokey")), obj({{"instantiation", s("delegated")}})}));
  auto r = call("pi", "SliceGetTicket", {i(id)});
  CHECK(r.code == 111);
  CHECK_THAT(r.text, Catch::Contains("Slice ticket signing key not found"));
  // The state is checked first, as the original did.
  ok("admin", "UpdateSlice", {i(id), obj({{"instantiation", s("plc-instantiated")}})});
  CHECK(call("pi", "SliceGetTicket", {i(id)}).code == 102);
}
