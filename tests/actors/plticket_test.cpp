// The plticket tool as a user runs it: keygen, pubkey, issue, inspect and verify,
// with their exit codes (0 valid, 1 refused, 2 usage or file error) and JSON.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#ifndef PLTICKET_PATH
#error "PLTICKET_PATH must name the plticket executable"
#endif

namespace {

constexpr std::int64_t t0 = 1'200'000'000;

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    auto pattern = (std::filesystem::temp_directory_path() / "pl_plticket_test_XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

struct run_result {
  int status = -1;
  std::string out;
};

/// Runs `plticket ARGS` through the shell (stderr to stderr) and returns its exit status and
/// stdout.
run_result plticket(const std::string& args) {
  std::string cmd = std::string{"'"} + PLTICKET_PATH + "' " + args;
  run_result r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
    r.out.append(buf, n);
  int st = ::pclose(p);
  REQUIRE(WIFEXITED(st));
  r.status = WEXITSTATUS(st);
  return r;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

std::string q(const std::filesystem::path& p) {
  return "'" + p.string() + "'";
}

} // namespace

TEST_CASE("plticket makes keys, issues and verifies with meaningful exit codes", "[plticket]") {
  temp_dir dir;
  auto key = dir.path / "plc.key";
  auto pub = dir.path / "plc.pub";

  auto kg = plticket("keygen --out " + q(key) + " --pub " + q(pub));
  REQUIRE(kg.status == 0);
  CHECK(kg.out.starts_with("key_id "));
  struct stat st {};
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(plticket("keygen --out " + q(key) + " 2>/dev/null").status == 2); // no silent overwrite

  auto exported = plticket("pubkey " + q(key));
  REQUIRE(exported.status == 0);
  std::ifstream pub_in{pub};
  std::string pub_text{std::istreambuf_iterator<char>{pub_in}, {}};
  CHECK(exported.out == pub_text);

  auto issued = plticket("issue --key " + q(key) +
                         " --slice pl_demo --slice-id 9 --node 4 --node 2 --instantiation delegated"
                         " --attr cpu_share=64 --ssh-key 'ssh-ed25519 AAAA alice' --at " +
                         std::to_string(t0) + " --expires " + std::to_string(t0 + 3600));
  REQUIRE(issued.status == 0);
  auto ticket = trimmed(issued.out);
  REQUIRE(ticket.starts_with("pltk1:"));
  auto at = " --at " + std::to_string(t0 + 60) + " ";

  SECTION("valid: exit 0 and the decoded record as JSON") {
    auto r = plticket("verify --key " + q(pub) + " --node 4" + at + ticket);
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["verdict"] == "valid");
    CHECK(j["valid"] == true);
    CHECK(j["ticket"]["slice_name"] == "pl_demo");
    CHECK(j["ticket"]["slice_id"] == 9);
    CHECK(j["ticket"]["instantiation"] == "delegated");
    CHECK(j["ticket"]["node_ids"] == nlohmann::json::array({2, 4}));
    CHECK(j["ticket"]["attributes"]["cpu_share"] == "64");
    CHECK(j["ticket"]["keys"][0] == "ssh-ed25519 AAAA alice");
    CHECK(j["ticket"]["issued"] == t0);
    CHECK(j["ticket"]["expires"] == t0 + 3600);
    CHECK(j["ticket"]["nonce"].get<std::string>().size() == 32);
    CHECK("key_id " + j["ticket"]["key_id"].get<std::string>() == trimmed(kg.out));
  }
  SECTION("from a file and from stdin, trailing newline allowed") {
    auto file = dir.path / "ticket.txt";
    std::ofstream{file} << ticket << "\n";
    CHECK(plticket("verify --key " + q(pub) + at + q(file) + " >/dev/null").status == 0);
    CHECK(plticket("verify --key " + q(pub) + at + "- < " + q(file) + " >/dev/null").status == 0);
    CHECK(plticket("inspect - < " + q(file) + " >/dev/null").status == 0);
  }
  SECTION("refused: exit 1 with the reason") {
    auto verdict = [&](const std::string& args) {
      auto r = plticket(args + " 2>/dev/null");
      CHECK(r.status == 1);
      return nlohmann::json::parse(r.out)["verdict"].get<std::string>();
    };
    CHECK(verdict("verify --key " + q(pub) + " --node 3" + at + ticket) == "wrong_node");
    CHECK(verdict("verify --key " + q(pub) + " --at " + std::to_string(t0 + 3600 + 300) + " " +
                  ticket) == "expired");
    CHECK(verdict("verify --key " + q(pub) + " --skew 0 --at " + std::to_string(t0 + 3600) + " " +
                  ticket) == "expired");
    CHECK(verdict("verify --key " + q(pub) + " --at " + std::to_string(t0 - 301) + " " + ticket) ==
          "not_yet_valid");
    CHECK(verdict("verify --key " + q(pub) + at + "pltk1:AAAA") == "malformed");
    // One character of the signature changed.
    auto tampered = ticket;
    auto& c = tampered[tampered.size() - 5];
    c = c == 'A' ? 'B' : 'A';
    CHECK(verdict("verify --key " + q(pub) + at + tampered) == "bad_signature");
    // A ticket signed by another key.
    auto other = dir.path / "other.key";
    auto other_pub = dir.path / "other.pub";
    REQUIRE(
        plticket("keygen --out " + q(other) + " --pub " + q(other_pub) + " >/dev/null").status ==
        0);
    CHECK(verdict("verify --key " + q(other_pub) + at + ticket) == "unknown_key");
    // Both keys in the keyring: accepted.
    CHECK(
        plticket("verify --key " + q(other_pub) + " --key " + q(pub) + at + ticket + " >/dev/null")
            .status == 0);
    CHECK(plticket("inspect pltk1:AAAA 2>/dev/null").status == 1);
  }
  SECTION("the signature is plain Ed25519 over the encoding: the openssl tool agrees") {
    auto blob_file = dir.path / "blob.bin";
    auto enc = dir.path / "enc.bin";
    auto sig = dir.path / "sig.bin";
    auto body = ticket.substr(6); // after "pltk1:"
    auto sh = [](const std::string& cmd) {
      int st = std::system(cmd.c_str());
      REQUIRE(WIFEXITED(st));
      return WEXITSTATUS(st);
    };
    REQUIRE(sh("printf %s '" + body + "' | base64 -d > " + q(blob_file)) == 0);
    auto size = std::filesystem::file_size(blob_file);
    REQUIRE(size > 64);
    REQUIRE(sh("head -c " + std::to_string(size - 64) + " " + q(blob_file) + " > " + q(enc)) == 0);
    REQUIRE(sh("tail -c 64 " + q(blob_file) + " > " + q(sig)) == 0);
    auto verify = "openssl pkeyutl -verify -pubin -inkey " + q(pub) + " -rawin -in " + q(enc) +
                  " -sigfile " + q(sig) + " >/dev/null 2>&1";
    CHECK(sh(verify) == 0);
    REQUIRE(sh("printf x >> " + q(enc)) == 0);
    CHECK(sh(verify) != 0);
  }
  SECTION("usage and file errors: exit 2") {
    CHECK(plticket("verify --key " + q(dir.path / "absent.pub") + at + ticket + " 2>/dev/null")
              .status == 2);
    CHECK(plticket("verify --key " + q(key) + at + ticket + " 2>/dev/null").status == 2);
    CHECK(plticket("verify " + ticket + " 2>/dev/null >/dev/null").status == 2);
    CHECK(plticket("frobnicate 2>/dev/null >/dev/null").status == 2);
    CHECK(plticket("issue --key " + q(key) + " --slice pl_x --slice-id 1 --any-node" +
                   " --expires 5 --at 10 2>/dev/null")
              .status == 2);
    ::chmod(key.c_str(), 0644);
    CHECK(plticket("pubkey " + q(key) + " 2>/dev/null").status == 2);
  }
}
