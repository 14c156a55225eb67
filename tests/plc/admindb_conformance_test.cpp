// Conformance of the AdminDB methods with PLCAPI: every method in scope (the
// lines below) is listed, has the reference's argument count in
// methodSignature, admits exactly the reference's roles, and its line is
// checked letter for letter against the method tables generated from the
// original source (tests/plc/data/plcapi-methods-5x.txt, -4.0.txt for the
// legacy NodeNetwork names and -4.2-legacy.txt for the NodeNetworkSetting
// names). Organizations are new (seed 2.2) and have no reference line. The Get*
// results carry the fields of the original's classes
// (tests/plc/data/plcapi-fields.txt).
#include "admindb_world.hpp"

#include "plc/api/sessions.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace pl::test;

namespace {

const char* reference = R"ref(
AddAddressType                     roles=[admin]                                  args=(auth, address_type_fields)
AddAddressTypeToAddress            roles=[admin, pi]                              args=(auth, address_type_id_or_name, address_id)
AddPerson                          roles=[admin, pi]                              args=(auth, person_fields)
AddPersonToSite                    roles=[admin]                                  args=(auth, person_id_or_email, site_id_or_login_base)
AddRole                            roles=[admin]                                  args=(auth, role_id, name)
AddRoleToPerson                    roles=[admin, pi]                              args=(auth, role_id_or_name, person_id_or_email)
AddSite                            roles=[admin]                                  args=(auth, site_fields)
AddSiteAddress                     roles=[admin, pi]                              args=(auth, site_id_or_login_base, address_fields)
DeleteAddress                      roles=[admin, pi]                              args=(auth, address_id)
DeleteAddressType                  roles=[admin]                                  args=(auth, address_type_id_or_name)
DeleteAddressTypeFromAddress       roles=[admin, pi]                              args=(auth, address_type_id_or_name, address_id)
DeletePerson                       roles=[admin, pi, user, tech]                  args=(auth, person_id_or_email)
DeletePersonFromSite               roles=[admin]                                  args=(auth, person_id_or_email, site_id_or_login_base)
DeleteRole                         roles=[admin]                                  args=(auth, role_id_or_name)
DeleteRoleFromPerson               roles=[admin, pi]                              args=(auth, role_id_or_name, person_id_or_email)
DeleteSite                         roles=[admin]                                  args=(auth, site_id_or_login_base)
GetAddressTypes                    roles=[admin, pi, user, tech, node]            args=(auth, address_type_filter = None, return_fields = None)
GetAddresses                       roles=[admin, pi, user, tech, node]            args=(auth, address_filter = None, return_fields = None)
GetPersons                         roles=[admin, pi, user, tech, node]            args=(auth, person_filter = None, return_fields = None)
GetRoles                           roles=[admin, pi, user, tech, node]            args=(auth)
GetSites                           roles=[admin, pi, user, tech, node, anonymous] args=(auth, site_filter = None, return_fields = None)
SetPersonPrimarySite               roles=[admin, pi, user, tech]                  args=(auth, person_id_or_email, site_id_or_login_base)
UpdateAddress                      roles=[admin, pi]                              args=(auth, address_id, address_fields)
UpdateAddressType                  roles=[admin]                                  args=(auth, address_type_id_or_name, address_type_fields)
UpdatePerson                       roles=[admin, pi, user, tech]                  args=(auth, person_id_or_email, person_fields)
UpdateSite                         roles=[admin, pi]                              args=(auth, site_id_or_login_base, site_fields)
AddOrganization                    roles=[admin]                                  args=(auth, organization_fields)
GetOrganizations                   roles=[admin, pi, user, tech, node]            args=(auth, organization_filter = None, return_fields = None)
UpdateOrganization                 roles=[admin, pi]                              args=(auth, organization_id_or_name, organization_fields)
DeleteOrganization                 roles=[admin]                                  args=(auth, organization_id_or_name)
AddSiteToOrganization              roles=[admin]                                  args=(auth, site_id_or_login_base, organization_id_or_name)
DeleteSiteFromOrganization         roles=[admin]                                  args=(auth, site_id_or_login_base, organization_id_or_name)
AddPersonToOrganization            roles=[admin]                                  args=(auth, person_id_or_email, organization_id_or_name)
DeletePersonFromOrganization       roles=[admin]                                  args=(auth, person_id_or_email, organization_id_or_name)
// Keys, KeyTypes, PCUs, PCUTypes, PCUProtocolTypes and ConfFiles
AddConfFileToNode                  roles=[admin]                                  args=(auth, conf_file_id, node_id_or_hostname)
AddNodeToPCU                       roles=[admin, pi, tech]                        args=(auth, node_id_or_hostname, pcu_id, port)
DeleteConfFileFromNode             roles=[admin]                                  args=(auth, conf_file_id, node_id_or_hostname)
DeleteNodeFromPCU                  roles=[admin, pi, tech]                        args=(auth, node_id_or_hostname, pcu_id)
AddConfFile                        roles=[admin]                                  args=(auth, conf_file_fields)
AddKeyType                         roles=[admin]                                  args=(auth, name)
AddPCU                             roles=[admin, pi, tech]                        args=(auth, site_id_or_login_base, pcu_fields)
AddPCUProtocolType                 roles=[admin]                                  args=(auth, pcu_type_id_or_model, protocol_type_fields)
AddPCUType                         roles=[admin]                                  args=(auth, pcu_type_fields)
AddPersonKey                       roles=[admin, pi, tech, user]                  args=(auth, person_id_or_email, key_fields)
BlacklistKey                       roles=[admin]                                  args=(auth, key_id)
DeleteConfFile                     roles=[admin]                                  args=(auth, conf_file_id)
DeleteKey                          roles=[admin, pi, tech, user]                  args=(auth, key_id)
DeleteKeyType                      roles=[admin]                                  args=(auth, name)
DeletePCU                          roles=[admin, pi, tech]                        args=(auth, pcu_id)
DeletePCUProtocolType              roles=[admin]                                  args=(auth, protocol_type_id)
DeletePCUType                      roles=[admin]                                  args=(auth, pcu_type_id)
GetConfFiles                       roles=[admin, node]                            args=(auth, conf_file_filter = None, return_fields = None)
GetKeyTypes                        roles=[admin, pi, user, tech, node]            args=(auth)
GetKeys                            roles=[admin, pi, user, tech, node]            args=(auth, key_filter = None, return_fields = None)
GetPCUProtocolTypes                roles=[admin, pi, user, tech, node]            args=(auth, protocol_type_filter = None, return_fields = None)
GetPCUTypes                        roles=[admin, pi, user, tech, node]            args=(auth, pcu_type_filter = None, return_fields = None)
GetPCUs                            roles=[admin, pi, tech, node]                  args=(auth, pcu_filter = None, return_fields = None)
UpdateConfFile                     roles=[admin]                                  args=(auth, conf_file_id, conf_file_fields)
UpdateKey                          roles=[admin, pi, tech, user]                  args=(auth, key_id, key_fields)
UpdatePCU                          roles=[admin, pi, tech]                        args=(auth, pcu_id, pcu_fields)
UpdatePCUProtocolType              roles=[admin]                                  args=(auth, protocol_type_id, protocol_type_fields)
UpdatePCUType                      roles=[admin]                                  args=(auth, pcu_type_id, pcu_type_fields)
// Nodes, Interfaces and their enumerations
AddBootState                       roles=[admin]                                  args=(auth, name)
AddInterface                       roles=[admin, pi, tech]                        args=(auth, node_id_or_hostname, interface_fields)
AddNetworkMethod                   roles=[admin]                                  args=(auth, name)
AddNetworkType                     roles=[admin]                                  args=(auth, name)
AddNode                            roles=[admin, pi, tech]                        args=(auth, site_id_or_login_base, node_fields)
AddNodeType                        roles=[admin]                                  args=(auth, name)
DeleteBootState                    roles=[admin]                                  args=(auth, name)
DeleteInterface                    roles=[admin, pi, tech]                        args=(auth, interface_id)
DeleteNetworkMethod                roles=[admin]                                  args=(auth, name)
DeleteNetworkType                  roles=[admin]                                  args=(auth, name)
DeleteNode                         roles=[admin, pi, tech]                        args=(auth, node_id_or_hostname)
DeleteNodeType                     roles=[admin]                                  args=(auth, name)
GetBootStates                      roles=[admin, pi, user, tech, node]            args=(auth)
GetInterfaces                      roles=[admin, pi, user, tech, node, anonymous] args=(auth, interface_filter = None, return_fields = None)
GetNetworkMethods                  roles=[admin, pi, user, tech, node]            args=(auth)
GetNetworkTypes                    roles=[admin, pi, user, tech, node]            args=(auth)
GetNodeTypes                       roles=[admin, pi, user, tech, node]            args=(auth)
GetNodes                           roles=[admin, pi, user, tech, node, anonymous] args=(auth, node_filter=None, return_fields=None)
UpdateInterface                    roles=[admin, pi, tech]                        args=(auth, interface_id, interface_fields)
UpdateNode                         roles=[admin, pi, tech]                        args=(auth, node_id_or_hostname, node_fields)
// Node and interface tags
AddInterfaceTag                    roles=[admin, pi, tech, user]                  args=(auth, interface_id, tag_type_id_or_name, value)
AddNodeTag                         roles=[admin, pi, tech, user]                  args=(auth, node_id, tag_type_id_or_name, value)
DeleteInterfaceTag                 roles=[admin, pi, user, tech]                  args=(auth, interface_tag_id)
DeleteNodeTag                      roles=[admin, pi, user, tech]                  args=(auth, node_tag_id)
GetInterfaceTags                   roles=[admin, pi, user, tech, node]            args=(auth, interface_tag_filter = None, return_fields = None)
GetNodeTags                        roles=[admin, pi, user, tech, node]            args=(auth, node_tag_filter = None, return_fields = None)
UpdateInterfaceTag                 roles=[admin, pi, tech, user]                  args=(auth, interface_tag_id, value)
UpdateNodeTag                      roles=[admin, pi, tech, user]                  args=(auth, node_tag_id, value)
// Legacy 4.0 names (plcapi-methods-4.0.txt)
AddNodeNetwork                     roles=[admin, pi, tech]                        args=(auth, node_id_or_hostname, nodenetwork_fields)
DeleteNodeNetwork                  roles=[admin, pi, tech]                        args=(auth, nodenetwork_id)
GetNodeNetworks                    roles=[admin, pi, user, tech, node, anonymous] args=(auth, nodenetwork_filter = None, return_fields = None)
UpdateNodeNetwork                  roles=[admin, pi, tech]                        args=(auth, nodenetwork_id, nodenetwork_fields)
// TagTypes, SiteTags and PersonTags
AddPersonTag                       roles=[admin, pi, tech, user]                  args=(auth, person_id, tag_type_id_or_name, value)
AddRoleToTagType                   roles=[admin]                                  args=(auth, role_id_or_name, tag_type_id_or_tagname)
AddSiteTag                         roles=[admin, pi, tech, user]                  args=(auth, site_id, tag_type_id_or_name, value)
AddTagType                         roles=[admin]                                  args=(auth, tag_type_fields)
DeletePersonTag                    roles=[admin, pi, user]                        args=(auth, person_tag_id)
DeleteRoleFromTagType              roles=[admin]                                  args=(auth, role_id_or_name, tag_type_id_or_tagname)
DeleteSiteTag                      roles=[admin, pi, user]                        args=(auth, site_tag_id)
DeleteTagType                      roles=[admin]                                  args=(auth, tag_type_id_or_name)
GetPersonTags                      roles=[admin, pi, user, tech]                  args=(auth, person_tag_filter = None, return_fields = None)
GetSiteTags                        roles=[admin, pi, user, node]                  args=(auth, site_tag_filter = None, return_fields = None)
GetTagTypes                        roles=[admin, pi, user, tech, node]            args=(auth, tag_type_filter = None, return_fields = None)
UpdatePersonTag                    roles=[admin, pi, tech, user]                  args=(auth, person_tag_id, value)
UpdateSiteTag                      roles=[admin, pi, tech, user]                  args=(auth, site_tag_id, value)
UpdateTagType                      roles=[admin]                                  args=(auth, tag_type_id_or_name, tag_type_fields)
// NodeGroups and their conf files
AddConfFileToNodeGroup             roles=[admin]                                  args=(auth, conf_file_id, nodegroup_id_or_name)
AddNodeGroup                       roles=[admin]                                  args=(auth, groupname, tag_type_id_or_tagname, value)
DeleteConfFileFromNodeGroup        roles=[admin]                                  args=(auth, conf_file_id, nodegroup_id_or_name)
DeleteNodeGroup                    roles=[admin]                                  args=(auth, node_group_id_or_name)
GetNodeGroups                      roles=[admin, pi, user, tech, node, anonymous] args=(auth, nodegroup_filter = None, return_fields = None)
UpdateNodeGroup                    roles=[admin]                                  args=(auth, nodegroup_id_or_name, nodegroup_fields)
// Legacy 4.2 names (plcapi-methods-4.2-legacy.txt)
AddNodeNetworkSetting              roles=[admin, pi, tech, user]                  args=(auth, interface_id, tag_type_id_or_name, value)
AddNodeNetworkSettingType          roles=[admin]                                  args=(auth, tag_type_fields)
DeleteNodeNetworkSetting           roles=[admin, pi, user, tech]                  args=(auth, interface_tag_id)
DeleteNodeNetworkSettingType       roles=[admin]                                  args=(auth, tag_type_id_or_name)
GetNodeNetworkSettingTypes         roles=[admin, pi, user, tech, node]            args=(auth, tag_type_filter = None, return_fields = None)
GetNodeNetworkSettings             roles=[admin, pi, user, tech, node]            args=(auth, interface_tag_filter = None, return_fields = None)
UpdateNodeNetworkSetting           roles=[admin, pi, tech, user]                  args=(auth, interface_tag_id, value)
UpdateNodeNetworkSettingType       roles=[admin]                                  args=(auth, tag_type_id_or_name, tag_type_fields)
)ref";

/// Slices, InitScripts, SliceTags and Leases (issue 4), and the 4.0
/// SliceAttribute names (plcapi-methods-4.0.txt).
const char* slice_reference = R"ref(
AddInitScript                      roles=[admin]                                  args=(auth, initscript_fields)
AddLeases                          roles=[admin, pi, user]                        args=(auth, node_id_or_hostname_s, slice_id_or_name, t_from, t_until)
AddPersonToSlice                   roles=[admin, pi]                              args=(auth, person_id_or_email, slice_id_or_name)
AddSlice                           roles=[admin, pi]                              args=(auth, slice_fields)
AddSliceInstantiation              roles=[admin]                                  args=(auth, name)
AddSliceTag                        roles=[admin, pi, user, node]                  args=(auth, slice_id_or_name, tag_type_id_or_name, value, node_id_or_hostname = None, nodegroup_id_or_name = None)
AddSliceToNodes                    roles=[admin, pi, user]                        args=(auth, slice_id_or_name, node_id_or_hostname_list)
AddSliceToNodesWhitelist           roles=[admin]                                  args=(auth, slice_id_or_name, node_id_or_hostname_list)
DeleteInitScript                   roles=[admin]                                  args=(auth, initscript_id_or_name)
DeleteLeases                       roles=[admin, pi, tech, user]                  args=(auth, lease_ids)
DeletePersonFromSlice              roles=[admin, pi]                              args=(auth, person_id_or_email, slice_id_or_name)
DeleteSlice                        roles=[admin, pi, user]                        args=(auth, slice_id_or_name)
DeleteSliceFromNodes               roles=[admin, pi, user]                        args=(auth, slice_id_or_name, node_id_or_hostname_list)
DeleteSliceFromNodesWhitelist      roles=[admin]                                  args=(auth, slice_id_or_name, node_id_or_hostname_list)
DeleteSliceInstantiation           roles=[admin]                                  args=(auth, instantiation)
DeleteSliceTag                     roles=[admin, pi, user, tech, node]            args=(auth, slice_tag_id)
GetInitScripts                     roles=[admin, pi, user, tech, node]            args=(auth, initscript_filter = None, return_fields = None)
GetLeaseGranularity                roles=[admin, pi, user, tech, node, anonymous] args=(auth)
GetLeases                          roles=[admin, pi, user, node, anonymous]       args=(auth, lease_filter = None, return_fields = None)
GetSliceInstantiations             roles=[admin, pi, user, tech, node]            args=(auth)
GetSliceTags                       roles=[admin, pi, user, node]                  args=(auth, slice_tag_filter = None, return_fields = None)
GetSlices                          roles=[admin, pi, user, node]                  args=(auth, slice_filter = None, return_fields = None)
UpdateInitScript                   roles=[admin]                                  args=(auth, initscript_id, initscript_fields)
UpdateLeases                       roles=[admin, pi, tech, user]                  args=(auth, lease_ids, input_fields)
UpdateSlice                        roles=[admin, pi, user]                        args=(auth, slice_id_or_name, slice_fields)
UpdateSliceTag                     roles=[admin, pi, user, node]                  args=(auth, slice_tag_id, value)
AddSliceAttribute                  roles=[admin, pi, user]                        args=(auth, slice_id_or_name, attribute_type_id_or_name, value, node_id_or_hostname = None, nodegroup_id_or_name = None)
AddSliceAttributeType              roles=[admin]                                  args=(auth, attribute_type_fields)
DeleteSliceAttribute               roles=[admin, pi, user]                        args=(auth, slice_attribute_id)
DeleteSliceAttributeType           roles=[admin]                                  args=(auth, attribute_type_id_or_name)
GetSliceAttributeTypes             roles=[admin, pi, user, tech, node]            args=(auth, attribute_type_filter = None, return_fields = None)
GetSliceAttributes                 roles=[admin, pi, user, node]                  args=(auth, slice_attribute_filter = None, return_fields = None)
UpdateSliceAttribute               roles=[admin, pi, user]                        args=(auth, slice_attribute_id, value)
UpdateSliceAttributeType           roles=[admin]                                  args=(auth, attribute_type_id_or_name, attribute_type_fields)
)ref";
constexpr std::size_t slice_methods = 34;

struct ref_method {
  std::string name;
  std::set<std::string> roles;
  std::vector<std::string> args; // after auth
  std::size_t required = 0;
};

std::vector<ref_method> parse_reference(std::istream& in) {
  std::vector<ref_method> out;
  std::string line;
  static const std::regex re{
      R"(^(\w+)\s+roles=\[([^\]]*)\]\s+args=\(auth(.*)\)(?:\s+\[deprecated\])?\s*$)"};
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, re))
      continue;
    ref_method r{m[1].str(), {}, {}, 0};
    std::istringstream roles{m[2].str()};
    for (std::string role; std::getline(roles, role, ',');) {
      role.erase(0, role.find_first_not_of(' '));
      role.erase(role.find_last_not_of(' ') + 1);
      r.roles.insert(role);
    }
    std::istringstream args{m[3].str()};
    for (std::string arg; std::getline(args, arg, ',');) {
      arg.erase(0, arg.find_first_not_of(' '));
      if (arg.empty())
        continue;
      bool optional = arg.find('=') != std::string::npos;
      arg = arg.substr(0, arg.find_first_of(" ="));
      r.args.push_back(arg);
      if (!optional)
        ++r.required;
    }
    out.push_back(r);
  }
  return out;
}

std::vector<ref_method> parse_reference() {
  std::istringstream in{std::string{reference} + slice_reference};
  return parse_reference(in);
}

/// Reads PLCAPI's method tables as generated from the original source
/// (tests/plc/data/, copies of shared/reference's): 5.x, then 4.0 and 4.3's
/// 4.2 wrappers for the legacy names 5.x dropped.
std::map<std::string, ref_method> reference_file() {
  std::map<std::string, ref_method> out;
  for (const char* path :
       {PL_PLCAPI_METHODS_5X, PL_PLCAPI_METHODS_40, PL_PLCAPI_METHODS_42_LEGACY}) {
    std::ifstream in{path};
    REQUIRE(in.good());
    for (auto& m : parse_reference(in))
      out.emplace(m.name, m);
  }
  return out;
}

/// Returns an argument that can never change anything: unknown ids, empty
/// structs, an existing role for AddRole, an empty key type name.
xv harmless(const std::string& method, const std::string& arg) {
  if (arg == "role_id")
    return i(10);
  // Existing values for the enumerations' Add* (102: already there).
  static const std::map<std::string, std::string> taken = {
      {"AddBootState", "boot"},
      {"AddNodeType", "regular"},
      {"AddNetworkMethod", "dhcp"},
      {"AddNetworkType", "ipv4"},
      {"AddSliceInstantiation", "plc-instantiated"},
  };
  if (arg == "name" && taken.count(method))
    return s(taken.at(method));
  if (arg == "name")
    return s(method.find("KeyType") != std::string::npos ? "" : "admin");
  if (arg.find("fields") != std::string::npos && arg != "return_fields")
    return obj({});
  if (arg.find("filter") != std::string::npos || arg == "return_fields")
    return nil;
  return i(999999);
}

} // namespace

TEST_CASE("the methods checked here are the reference file's, letter for letter") {
  auto file = reference_file();
  REQUIRE(file.size() > 180);
  for (const auto& m : parse_reference()) {
    INFO(m.name);
    auto it = file.find(m.name);
    if (it == file.end()) {
      // Only Organizations are new (seed 2.2; the original never built them).
      CHECK(m.name.find("Organization") != std::string::npos);
      continue;
    }
    CHECK(m.roles == it->second.roles);
    CHECK(m.args == it->second.args);
    CHECK(m.required == it->second.required);
  }
}

TEST_CASE_METHOD(admindb_world, "AdminDB methods match the PLCAPI 5.x reference") {
  auto methods = parse_reference();
  REQUIRE(methods.size() - slice_methods == 122);
  std::set<std::string> listed;
  for (auto& v : items(ok("admin", "system.listMethods", {})))
    listed.insert(str_of(v));
  for (const auto& m : methods) {
    INFO(m.name);
    CHECK(listed.count(m.name) == 1);
    // One signature per accepted argument count, auth included.
    std::set<std::size_t> counts;
    for (auto& sig : items(ok("admin", "system.methodSignature", {s(m.name)})))
      counts.insert(items(sig).size() - 1);
    std::set<std::size_t> want;
    for (std::size_t n = m.required; n <= m.args.size(); ++n)
      want.insert(n + 1);
    CHECK(counts == want);
    std::vector<xv> args;
    for (const auto& a : m.args)
      args.push_back(harmless(m.name, a));
    for (const char* actor : {"admin", "pi", "user", "tech", "anonymous"}) {
      INFO(actor);
      int code = fault(actor, m.name, args);
      if (m.roles.count(actor))
        CHECK(code != 103);
      else
        CHECK(code == 103);
    }
    // One argument too many is 101.
    args.push_back(i(1));
    CHECK(fault("admin", m.name, args) == 101);
  }
}

namespace {

/// Reads the original's Get* field lists: method -> field names.
std::map<std::string, std::vector<std::string>> reference_fields() {
  std::map<std::string, std::vector<std::string>> out;
  std::ifstream in{PL_PLCAPI_FIELDS};
  REQUIRE(in.good());
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream words{line};
    std::string method, field;
    words >> method;
    while (words >> field)
      out[method].push_back(field);
  }
  return out;
}

/// Reference fields deliberately not returned, with the reason.
const std::map<std::string, std::map<std::string, std::string>> not_returned = {
    // 5.x replaced a tag type's minimum role by its role list (role_ids and
    // roles, returned instead); 4.3's wrappers of these 4.2 names follow 5.x.
    {"GetNodeNetworkSettings", {{"min_role_id", "role lists since 5.x"}}},
    {"GetNodeNetworkSettingTypes", {{"min_role_id", "role lists since 5.x"}}},
};

} // namespace

TEST_CASE_METHOD(admindb_world, "Get* results carry the reference's field names") {
  pl::plc::api::add_session_methods(api);
  pl::plc::api::add_message_methods(api);
  // One object of every class, so that every Get* has a row to show.
  int node = int_of(ok("admin", "AddNode",
                       {i(site_a), obj({{"hostname", s("fields-" + sfx + ".example.org")}})}));
  int iface = int_of(
      ok("admin", "AddInterface", {i(node), obj({{"method", s("dhcp")}, {"type", s("ipv4")}})}));
  std::string tag = "fields" + sfx;
  ok("admin", "AddTagType", {obj({{"tagname", s(tag)}})});
  ok("admin", "AddSiteTag", {i(site_a), s(tag), s("v")});
  ok("admin", "AddPersonTag", {i(id["user"]), s(tag), s("v")});
  ok("admin", "AddNodeTag", {i(node), s(tag), s("v")});
  ok("admin", "AddInterfaceTag", {i(iface), s(tag), s("v")});
  int group = int_of(ok("admin", "AddNodeGroup", {s(tag), s(tag), s("v")}));
  int cf = int_of(ok("admin", "AddConfFile", {obj({{"source", s("s")}, {"dest", s("/d")}})}));
  ok("admin", "AddConfFileToNodeGroup", {i(cf), i(group)});
  ok("admin", "AddSiteAddress",
     {i(site_a), obj({{"line1", s("1 Main St")},
                      {"city", s("Princeton")},
                      {"state", s("NJ")},
                      {"postalcode", s("08540")},
                      {"country", s("USA")}})});
  ok("admin", "AddPersonKey",
     {i(id["user"]),
      obj({{"key_type", s("ssh")},
           {"key", s("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMK/FJTzMQ4+y2FTGaw1GBH25rHhK/20i0nBv/"
                     "AH8OEz fields@test")}})});
  int pcu_type = int_of(ok("admin", "AddPCUType", {obj({{"model", s("m" + sfx)}})}));
  ok("admin", "AddPCUProtocolType",
     {i(pcu_type), obj({{"port", i(22)}, {"protocol", s("ssh")}, {"supported", b(true)}})});
  ok("admin", "AddPCU",
     {i(site_a), obj({{"ip", s("10.9.9.9")},
                      {"hostname", s("pcu.example.org")},
                      {"protocol", s("ssh")},
                      {"username", s("root")},
                      {"password", s("secret")},
                      {"model", s("APC")}})});
  ok("admin", "GetSession", {});

  auto reference = reference_fields();
  REQUIRE(reference.size() >= 25);
  auto signatures = reference_file();
  for (const auto& [method, fields] : reference) {
    INFO(method);
    std::set<std::string> want;
    for (const auto& f : fields)
      if (!not_returned.count(method) || !not_returned.at(method).count(f))
        want.insert(f);
    // Events pile up with every call of this process: the latest few.
    xv filter =
        method.rfind("GetEvent", 0) == 0 ? obj({{"-SORT", s("-event_id")}, {"-LIMIT", i(3)}}) : nil;
    bool takes_filter = !signatures.at(method).args.empty(); // GetRoles takes none
    // All fields: every reference field is a key of the rows.
    auto rows =
        items(ok("admin", method, takes_filter ? std::vector<xv>{filter} : std::vector<xv>{}));
    REQUIRE_FALSE(rows.empty());
    std::set<std::string> keys;
    for (const auto& [k, _] : xmlrpc_c::value_struct(rows[0]).cvalue())
      keys.insert(k);
    for (const auto& f : want) {
      INFO(f);
      CHECK(keys.count(f) == 1);
    }
    const auto& params = signatures.at(method).args;
    if (std::find(params.begin(), params.end(), "return_fields") == params.end())
      continue; // GetRoles, GetSessions: no return_fields
    // Asked for by name, each is a known return field and comes back alone.
    std::vector<xv> names;
    for (const auto& f : want)
      names.push_back(s(f));
    auto asked = call("admin", method, {filter, arr(names)});
    INFO(asked.text);
    REQUIRE_FALSE(asked.is_fault);
    REQUIRE_FALSE(items(asked.value).empty());
    std::set<std::string> got;
    for (const auto& [k, _] : xmlrpc_c::value_struct(items(asked.value)[0]).cvalue())
      got.insert(k);
    CHECK(got == want);
  }
}
