// Keys and KeyTypes through the dispatcher (PLCAPI 5.x rules), and the
// OpenSSH public key check.
#include "plc/api/fault.hpp"
#include "plc/api/keys.hpp"

#include "admindb_world.hpp"

#include <cstdint>

using namespace pl::test;
using pl::plc::api::ssh_key_material;

namespace {

std::string base64(const std::string& in) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t acc = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size())
      acc |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size())
      acc |= static_cast<unsigned char>(in[i + 2]);
    out += alphabet[(acc >> 18) & 63];
    out += alphabet[(acc >> 12) & 63];
    out += i + 1 < in.size() ? alphabet[(acc >> 6) & 63] : '=';
    out += i + 2 < in.size() ? alphabet[acc & 63] : '=';
  }
  return out;
}

std::string wire(const std::string& s) {
  std::string out(4, '\0');
  for (int k = 0; k < 4; ++k)
    out[k] = static_cast<char>((s.size() >> (8 * (3 - k))) & 0xff);
  return out + s;
}

/// Returns the base64 of an ed25519 public key blob unique to `seed`.
std::string ed25519_b64(const std::string& seed, std::string type = "ssh-ed25519") {
  std::string point(32, 'k');
  for (std::size_t i = 0; i < seed.size() && i < 32; ++i)
    point[i] = seed[i];
  return base64(wire(type) + wire(point));
}

std::string ed25519(const std::string& seed, const std::string& comment = "me@host") {
  return "ssh-ed25519 " + ed25519_b64(seed) + (comment.empty() ? "" : " " + comment);
}

int code_of(const std::string& key) {
  try {
    ssh_key_material(key);
    return 0;
  } catch (const pl::plc::api::fault& f) {
    return static_cast<int>(f.code());
  }
}

const std::string rsa =
    "ssh-rsa "
    "AAAAB3NzaC1yc2EAAAADAQABAAABgQCsHMYFD5Jjt7yIQWix11Lbsu0CyiP/ay4X7qASNlF0ut30NrlXjGHhuJ0sDUPDF"
    "LGtbSC6+DOt64mt9mtgadd8Z4c9rdr3iqAxbcFyXuM2UFpFa6ra3JvmBYILh2209uVXymsAmsW/tTD4i6HwZoOOvflQ/hS"
    "vr6E15iOntbLefXz1dpoCcYWH/HvLzeuMd28YBLI+bomnGIgKJV4y+lBERO4BBD02iz5U+43TgQlhpjT96ph7epsrNVl0+"
    "ZahWoqPCbSa9V0lfeRxGLeswbpAOyTmupSyc3jyo4JSz4xG9P+293eXPU11p9BzW4AaL4G07qwxPb7mtHJEgJLKUsda2X4"
    "s/myXMJ2ppjGitvqusf+G44KB1JEBceWOoxRSin7wuWPmHI7yvem9shAsa5ChHtlYMRyL/OoxDZmQ8P9qR5a608C7tm1P8"
    "S+Ttfji8YnnbwHS1s9CkoZ+BlOtTM1IRruNUVZJxrHoXwW5gsy11j7iOrvtI3kBphlW/VXV5h0=";
const std::string ecdsa256 =
    "ecdsa-sha2-nistp256 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMnvvGo8jQ/FY1jbSx/CCs/VQweZxj/gX3Q0rK3lkB"
    "SO7oEJecw5yH2UcpzjhbXKMziOZTrhxVR4wqANHj0mzls=";
const std::string ecdsa384 =
    "ecdsa-sha2-nistp384 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBE23la+d79PXq0ak14KVZKcroh4fyuRyEhgwpjUtzU"
    "VkA0//xmFAPl++2qOx2awPQz74uFpxs1Gl5r/aIpFU4oHoHyt/AQyEWathE7UESL1pybRMWQOZDBiFnTrqFTx4Tg==";
const std::string real_ed25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMK/FJTzMQ4+y2FTGaw1GBH25rHhK/20i0nBv/AH8OEz";

xv key_fields(const std::string& key, const std::string& type = "ssh") {
  return obj({{"key_type", s(type)}, {"key", s(key)}});
}

} // namespace

TEST_CASE("ssh_key_material accepts OpenSSH public keys and returns type and data") {
  CHECK(ssh_key_material(rsa + " u@rsa") == rsa);
  CHECK(ssh_key_material(ecdsa256 + " u@ecdsa") == ecdsa256);
  CHECK(ssh_key_material(ecdsa384) == ecdsa384);
  CHECK(ssh_key_material(real_ed25519 + " a comment with spaces\n") == real_ed25519);
  CHECK(ssh_key_material("  " + real_ed25519 + "\t x ") == real_ed25519);
}

TEST_CASE("ssh_key_material refuses what is not an OpenSSH public key (102)") {
  std::string data = ed25519_b64("x");
  CHECK(code_of("") == 102);
  CHECK(code_of("ssh-ed25519") == 102);
  CHECK(code_of("ssh-foo " + data) == 102);               // unknown type
  CHECK(code_of("ssh-rsa " + data) == 102);               // blob says ssh-ed25519
  CHECK(code_of("ssh-ed25519 " + data.substr(1)) == 102); // not base64 (length)
  CHECK(code_of("ssh-ed25519 " + data.substr(0, 8) + "*" + data.substr(9)) == 102); // bad char
  CHECK(code_of("ssh-ed25519 AAAA=AAA") == 102); // padding inside
  CHECK(code_of("ssh-ed25519 " + base64(wire("ssh-ed25519") + wire("short"))) == 102);
  CHECK(code_of("ssh-ed25519 " + base64(wire("ssh-ed2551"))) == 102);
  CHECK(code_of("ecdsa-sha2-nistp384 " + ecdsa256.substr(20)) == 102); // other curve
  CHECK(code_of("ecdsa-sha2-nistp256 " + base64(wire("ecdsa-sha2-nistp256") + wire("nistp384"))) ==
        102);
  CHECK(code_of("command=\"/bin/sh\" " + real_ed25519) == 102); // options
  CHECK(code_of(real_ed25519 + " a\nssh-rsa " + data) == 102);  // a second line
  CHECK(code_of(real_ed25519 + " a\rb") == 102);
  CHECK(code_of(rsa.substr(0, rsa.size() - 40) + "====") == 102); // truncated / bad padding
  CHECK(code_of(ed25519("ok")) == 0);
}

TEST_CASE_METHOD(admindb_world, "AddPersonKey: admins for anyone, others only for themselves") {
  int mine = int_of(ok("user", "AddPersonKey", {i(id["user"]), key_fields(ed25519("u1" + sfx))}));
  CHECK(mine > 0);
  CHECK(ints(member(items(ok("user", "GetPersons", {arr({i(id["user"])}), nil}))[0], "key_ids")) ==
        std::vector<int>{mine});
  // By e-mail, in any case.
  std::string upper = email["tech"];
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(fault("tech", "AddPersonKey", {s(upper), key_fields(ed25519("t1" + sfx))}) == 0);
  CHECK(fault("pi", "AddPersonKey", {i(id["pi"]), key_fields(ed25519("p1" + sfx))}) == 0);
  // A PI may not add keys to the users of their site, nor a user to another.
  CHECK(fault("pi", "AddPersonKey", {i(id["user"]), key_fields(ed25519("p2" + sfx))}) == 108);
  CHECK(fault("user", "AddPersonKey", {i(id["user_b"]), key_fields(ed25519("u2" + sfx))}) == 108);
  CHECK(fault("tech", "AddPersonKey", {i(id["pi"]), key_fields(ed25519("t2" + sfx))}) == 108);
  CHECK(fault("admin", "AddPersonKey", {i(id["user_b"]), key_fields(ed25519("a1" + sfx))}) == 0);
  CHECK(fault("anonymous", "AddPersonKey", {i(id["user"]), key_fields(ed25519("n" + sfx))}) == 103);
  // Validation.
  CHECK(fault("user", "AddPersonKey", {i(id["user"]), key_fields("ssh-rsa AAAA")}) == 102);
  CHECK(fault("user", "AddPersonKey", {i(id["user"]), key_fields(ed25519("v" + sfx), "nope")}) ==
        102);
  CHECK(fault("user", "AddPersonKey", {i(id["user"]), obj({{"key", s(ed25519("w" + sfx))}})}) ==
        102);
  CHECK(fault("user", "AddPersonKey", {i(id["user"]), obj({{"key_type", s("ssh")}})}) == 102);
  CHECK(fault("user", "AddPersonKey",
              {i(id["user"]), key_fields(ed25519("x" + sfx, std::string(4100, 'c')))}) == 102);
  CHECK(fault("admin", "AddPersonKey", {i(999999), key_fields(ed25519("y" + sfx))}) == 102);
  // The stored key is the line given, without surrounding white space.
  int k =
      int_of(ok("admin", "AddPersonKey", {i(id["user"]), key_fields(ed25519("z" + sfx) + "\n")}));
  auto row = items(ok("admin", "GetKeys", {arr({i(k)}), nil}))[0];
  CHECK(str_of(member(row, "key")) == ed25519("z" + sfx));
  CHECK(str_of(member(row, "key_type")) == "ssh");
  CHECK(int_of(member(row, "person_id")) == id["user"]);
  CHECK(member(row, "peer_id").type() == xv::TYPE_NIL);
  CHECK(member(row, "peer_key_id").type() == xv::TYPE_NIL);
}

TEST_CASE_METHOD(admindb_world, "GetKeys: persons see their own keys, admins and nodes all") {
  int u = int_of(ok("user", "AddPersonKey", {i(id["user"]), key_fields(ed25519("gu" + sfx))}));
  int p = int_of(ok("pi", "AddPersonKey", {i(id["pi"]), key_fields(ed25519("gp" + sfx))}));
  int b = int_of(ok("user_b", "AddPersonKey", {i(id["user_b"]), key_fields(ed25519("gb" + sfx))}));
  CHECK(ids("user", "GetKeys", {}, "key_id") == std::vector<int>{u});
  CHECK(ids("pi", "GetKeys", {}, "key_id") == std::vector<int>{p}); // not their users' keys
  CHECK(ids("tech", "GetKeys", {}, "key_id").empty());
  CHECK(ids("user", "GetKeys", {arr({i(b), i(u)})}, "key_id") == std::vector<int>{u});
  CHECK(ids("user", "GetKeys", {obj({{"person_id", i(id["user_b"])}})}, "key_id").empty());
  CHECK(ids("admin", "GetKeys", {arr({i(u), i(p), i(b)})}, "key_id") == std::vector<int>{u, p, b});
  CHECK(ids("admin", "GetKeys", {i(b)}, "key_id") == std::vector<int>{b});
  CHECK(ids("admin", "GetKeys", {obj({{"person_id", i(id["pi"])}})}, "key_id") ==
        std::vector<int>{p});
  auto rows = items(ok("admin", "GetKeys", {arr({i(u)}), arr({s("key_type")})}));
  REQUIRE(rows.size() == 1);
  CHECK(xmlrpc_c::value_struct(rows[0]).cvalue().size() == 1);
  CHECK(fault("admin", "GetKeys", {arr({s("x")})}) == 102);         // no name key
  CHECK(fault("admin", "GetKeys", {obj({{"nope", i(1)}})}) == 102); // unknown field
  CHECK(fault("anonymous", "GetKeys", {}) == 103);
}

TEST_CASE_METHOD(admindb_world, "UpdateKey and DeleteKey: own keys only, admins any") {
  int u = int_of(ok("user", "AddPersonKey", {i(id["user"]), key_fields(ed25519("uu" + sfx))}));
  CHECK(fault("user", "UpdateKey", {i(u), key_fields(ed25519("uv" + sfx, "new"))}) == 0);
  CHECK(str_of(member(items(ok("user", "GetKeys", {arr({i(u)})}))[0], "key")) ==
        ed25519("uv" + sfx, "new"));
  CHECK(fault("pi", "UpdateKey", {i(u), key_fields(ed25519("uw" + sfx))}) == 108);
  CHECK(fault("user_b", "UpdateKey", {i(u), key_fields(ed25519("uw" + sfx))}) == 108);
  CHECK(fault("user", "UpdateKey", {i(u), key_fields("ssh-ed25519 AAAA")}) == 102);
  CHECK(fault("user", "UpdateKey", {i(u), obj({{"key_type", s("none")}})}) == 102);
  CHECK(fault("admin", "UpdateKey", {i(u), obj({{"key", s(ed25519("ux" + sfx))}})}) == 0);
  CHECK(fault("user", "UpdateKey", {i(999999), obj({})}) == 102);
  CHECK(fault("tech", "DeleteKey", {i(u)}) == 108);
  CHECK(fault("pi", "DeleteKey", {i(u)}) == 108);
  CHECK(fault("user", "DeleteKey", {i(u)}) == 0);
  CHECK(ids("admin", "GetKeys", {arr({i(u)})}, "key_id").empty());
  CHECK(fault("user", "DeleteKey", {i(u)}) == 102);
  int b = int_of(ok("user_b", "AddPersonKey", {i(id["user_b"]), key_fields(ed25519("ub" + sfx))}));
  CHECK(fault("admin", "DeleteKey", {i(b)}) == 0);
  CHECK(ints(member(items(ok("admin", "GetPersons", {arr({i(id["user_b"])})}))[0], "key_ids"))
            .empty());
}

TEST_CASE_METHOD(admindb_world, "BlacklistKey hides every copy of a key and refuses it forever") {
  std::string material = ed25519("bl" + sfx, "");
  int u = int_of(ok("user", "AddPersonKey", {i(id["user"]), key_fields(material + " laptop")}));
  int b = int_of(ok("user_b", "AddPersonKey", {i(id["user_b"]), key_fields(material + " other")}));
  int keep = int_of(ok("user", "AddPersonKey", {i(id["user"]), key_fields(ed25519("ok" + sfx))}));
  CHECK(fault("user", "BlacklistKey", {i(u)}) == 103);
  CHECK(fault("pi", "BlacklistKey", {i(u)}) == 103);
  CHECK(fault("admin", "BlacklistKey", {i(999999)}) == 102);
  CHECK(fault("admin", "BlacklistKey", {i(u)}) == 0);
  // Both copies are hidden and detached; the other key stays.
  CHECK(ids("admin", "GetKeys", {arr({i(u), i(b), i(keep)})}, "key_id") == std::vector<int>{keep});
  CHECK(ints(member(items(ok("admin", "GetPersons", {arr({i(id["user"])})}))[0], "key_ids")) ==
        std::vector<int>{keep});
  CHECK(ints(member(items(ok("admin", "GetPersons", {arr({i(id["user_b"])})}))[0], "key_ids"))
            .empty());
  // Never again: with any comment, by anyone, nor by updating another key.
  auto again = call("admin", "AddPersonKey", {i(id["pi"]), key_fields(material + " new")});
  CHECK(again.code == 102);
  CHECK_THAT(again.text, Catch::Contains("blacklisted"));
  CHECK(fault("user", "AddPersonKey", {i(id["user"]), key_fields(material)}) == 102);
  CHECK(fault("user", "UpdateKey", {i(keep), key_fields(material + " x")}) == 102);
  // A blacklisted key can no longer be named.
  CHECK(fault("admin", "UpdateKey", {i(u), key_fields(ed25519("n1" + sfx))}) == 102);
  CHECK(fault("admin", "DeleteKey", {i(b)}) == 102);
  CHECK(fault("admin", "BlacklistKey", {i(u)}) == 102);
  // The event names the keys and the persons they were taken from.
  auto events = items(ok("admin", "GetEvents",
                         {obj({{"call_name", s("BlacklistKey")},
                               {"fault_code", i(0)},
                               {"-SORT", s("-event_id")},
                               {"-LIMIT", i(1)}})}));
  REQUIRE(events.size() == 1);
  CHECK(str_of(member(events[0], "message")) == "Key " + std::to_string(u) + " blacklisted");
  auto objects = ints(member(events[0], "object_ids"));
  for (int want : {u, b, id["user"], id["user_b"]})
    CHECK(std::find(objects.begin(), objects.end(), want) != objects.end());
}

TEST_CASE_METHOD(admindb_world, "A blacklisted key stays refused after its key type is deleted") {
  std::string type = "gpg" + sfx;
  CHECK(fault("admin", "AddKeyType", {s(type)}) == 0);
  int k = int_of(ok("user", "AddPersonKey", {i(id["user"]), key_fields("PGP block " + sfx, type)}));
  ok("admin", "BlacklistKey", {i(k)});
  ok("admin", "DeleteKeyType", {s(type)});
  ok("admin", "AddKeyType", {s(type)});
  CHECK(fault("user", "AddPersonKey", {i(id["user"]), key_fields("PGP block " + sfx, type)}) ==
        102);
  CHECK(fault("user", "AddPersonKey", {i(id["user"]), key_fields("PGP other " + sfx, type)}) == 0);
}

TEST_CASE_METHOD(admindb_world, "KeyTypes: ssh seeded, admins add and delete (with their keys)") {
  auto names = [&](const std::string& actor) {
    std::vector<std::string> out;
    for (auto& v : items(ok(actor, "GetKeyTypes", {})))
      out.push_back(str_of(v));
    return out;
  };
  for (const char* actor : {"admin", "pi", "user", "tech"}) {
    auto all = names(actor);
    CHECK(std::find(all.begin(), all.end(), "ssh") != all.end());
  }
  std::string type = "kt" + sfx;
  CHECK(fault("pi", "AddKeyType", {s(type)}) == 103);
  CHECK(fault("admin", "AddKeyType", {s(type)}) == 0);
  CHECK(fault("admin", "AddKeyType", {s(type)}) == 102);
  CHECK(fault("admin", "AddKeyType", {s("")}) == 102);
  CHECK(fault("admin", "AddKeyType", {s(std::string(21, 'k'))}) == 102);
  auto all = names("user");
  CHECK(std::find(all.begin(), all.end(), type) != all.end());
  int k = int_of(ok("user", "AddPersonKey", {i(id["user"]), key_fields("anything " + sfx, type)}));
  CHECK(fault("user", "DeleteKeyType", {s(type)}) == 103);
  CHECK(fault("admin", "DeleteKeyType", {s("none" + sfx)}) == 102);
  CHECK(fault("admin", "DeleteKeyType", {s(type)}) == 0);
  CHECK(ids("admin", "GetKeys", {arr({i(k)})}, "key_id").empty());
  all = names("user");
  CHECK(std::find(all.begin(), all.end(), type) == all.end());
  CHECK(fault("user", "AddPersonKey", {i(id["user"]), key_fields("anything", type)}) == 102);
}

TEST_CASE_METHOD(admindb_world, "DeletePerson and DeleteSite delete the person's keys") {
  int k = int_of(ok("user", "AddPersonKey", {i(id["user"]), key_fields(ed25519("dp" + sfx))}));
  int kb = int_of(ok("user_b", "AddPersonKey", {i(id["user_b"]), key_fields(ed25519("db" + sfx))}));
  ok("user", "DeletePerson", {i(id["user"])});
  CHECK(ids("admin", "GetKeys", {arr({i(k)})}, "key_id").empty());
  ok("admin", "DeleteSite", {i(site_b)}); // user_b belongs to no other site
  CHECK(ids("admin", "GetKeys", {arr({i(kb)})}, "key_id").empty());
  // The material is free again: deleting is not blacklisting.
  CHECK(fault("pi", "AddPersonKey", {i(id["pi"]), key_fields(ed25519("dp" + sfx))}) == 0);
}
