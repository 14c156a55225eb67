#include "plc/api/password.hpp"

#include <catch2/catch.hpp>

using namespace pl::plc::api;

namespace {
// Cheap parameters keep the suite fast; the format records them per hash.
constexpr kdf_cost cheap{10, 8, 1};
} // namespace

TEST_CASE("a derived hash verifies only its own password") {
  auto stored = hash_password("s3cret pass", cheap);
  CHECK(stored.rfind("$scrypt$ln=10,r=8,p=1$", 0) == 0);
  CHECK(verify_password("s3cret pass", stored));
  CHECK_FALSE(verify_password("s3cret pasS", stored));
  CHECK_FALSE(verify_password("", stored));
}

TEST_CASE("two hashes of one password differ by their salt") {
  CHECK(hash_password("x", cheap) != hash_password("x", cheap));
}

TEST_CASE("the default cost is recorded in the hash") {
  auto stored = hash_password("pw");
  CHECK(stored.rfind("$scrypt$ln=14,r=8,p=5$", 0) == 0);
  CHECK(verify_password("pw", stored));
}

TEST_CASE("malformed or foreign hash strings never match") {
  auto good = hash_password("pw", cheap);
  CHECK_FALSE(verify_password("pw", "nopass"));
  CHECK_FALSE(verify_password("pw", ""));
  CHECK_FALSE(verify_password("pw", "$scrypt$"));
  CHECK_FALSE(verify_password("pw", "$scrypt$ln=10,r=8$abc$def"));
  CHECK_FALSE(verify_password("pw", "$scrypt$ln=99,r=8,p=1$abc$def"));
  CHECK_FALSE(verify_password("pw", "$scrypt$ln=10,r=8,p=1,x=2$abc$def"));
  CHECK_FALSE(verify_password("pw", good.substr(0, good.size() - 4)));
  CHECK_FALSE(verify_password("pw", "$1$abcdefgh$0123456789012345678901"));
}
