// conf_files as the original node manager installed them, into a scratch
// root: checksum skip, owner, group, mode, preinstall/postinstall/error
// commands, and refusals that leave the node unchanged.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>

#include <sys/stat.h>
#include <unistd.h>

#include "actors/errors.hpp"
#include "node/conf_file_installer.hpp"
#include "tests/node/scratch.hpp"

using namespace pl;
using namespace pl::node;
namespace fs = std::filesystem;

namespace {

using test::scratch;

std::string slurp(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// The world a test controls: files PLC serves, exit codes of commands, and
// a record of what was fetched and run.
struct world {
  std::map<std::string, std::string> served;
  std::map<std::string, int> status;
  std::vector<std::string> fetched;
  std::vector<std::string> ran;

  conf_file_hooks hooks() {
    conf_file_hooks h;
    h.fetch = [this](const std::string& url) -> caf::expected<std::string> {
      fetched.push_back(url);
      if (auto i = served.find(url); i != served.end())
        return i->second;
      return make_error(errc::not_connected, "404");
    };
    h.run = [this](const std::string& cmd) {
      ran.push_back(cmd);
      auto i = status.find(cmd);
      return i == status.end() ? 0 : i->second;
    };
    // Owners map to this process's ids, so chown works without root.
    h.user = [](const std::string& name) -> std::optional<uid_t> {
      if (name == "root" || name == "me")
        return ::geteuid();
      return std::nullopt;
    };
    h.group = [](const std::string& name) -> std::optional<gid_t> {
      if (name == "root" || name == "adm")
        return ::getegid();
      return std::nullopt;
    };
    return h;
  }
};

conf_file sysctl() {
  conf_file f;
  f.source = "PlanetLabConf/sysctl.php";
  f.dest = "/etc/planetlab/sysctl.conf";
  f.file_permissions = "600";
  f.file_owner = "me";
  f.file_group = "adm";
  f.preinstall_cmd = "pre";
  f.postinstall_cmd = "post";
  f.error_cmd = "oops";
  return f;
}

const std::string url = "https://boot.example.org/PlanetLabConf/sysctl.php?node_id=7";

} // namespace

TEST_CASE("conf file URLs and checksums follow the original") {
  conf_file_options o{"boot.example.org", 7, "/"};
  CHECK(conf_file_url(o, "PlanetLabConf/a.php") ==
        "https://boot.example.org/PlanetLabConf/a.php?node_id=7");
  CHECK(conf_file_url(o, "/PlanetLabConf/a.php?x=1") ==
        "https://boot.example.org/PlanetLabConf/a.php?x=1&node_id=7");
  o.node_id = 0;
  CHECK(conf_file_url(o, "a") == "https://boot.example.org/a");
  CHECK(sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(to_string(conf_file_outcome::refused) == "refused");
}

TEST_CASE("a conf file is installed with its mode, owner and commands, then skipped by checksum") {
  scratch tmp;
  world w;
  w.served[url] = "net.ipv4.ip_forward = 1\n";
  conf_file_installer inst{{"boot.example.org", 7, tmp.dir}, w.hooks()};
  auto target = tmp.dir / "etc/planetlab/sysctl.conf";

  auto r = inst.install(sysctl());
  CHECK(r == conf_file_report{"/etc/planetlab/sysctl.conf", conf_file_outcome::installed, ""});
  CHECK(w.fetched == std::vector<std::string>{url});
  CHECK(w.ran == std::vector<std::string>{"pre", "post"});
  CHECK(slurp(target) == "net.ipv4.ip_forward = 1\n");
  CHECK(mode_of(target) == 0600);
  // No temporary file is left beside it.
  CHECK(std::distance(fs::directory_iterator{target.parent_path()}, fs::directory_iterator{}) == 1);

  // Same content: nothing is rewritten and no command runs.
  w.ran.clear();
  CHECK(inst.install(sysctl()).outcome == conf_file_outcome::unchanged);
  CHECK(w.ran.empty());
  // Same content, new mode at PLC: the mode is corrected, still no commands.
  auto f = sysctl();
  f.file_permissions = "0644";
  CHECK(inst.install(f).outcome == conf_file_outcome::unchanged);
  CHECK(mode_of(target) == 0644);
  CHECK(w.ran.empty());
  // always_update installs (and runs the commands) even when unchanged.
  f.always_update = true;
  CHECK(inst.install(f).outcome == conf_file_outcome::installed);
  CHECK(w.ran == std::vector<std::string>{"pre", "post"});
  // New content is installed.
  w.ran.clear();
  w.served[url] = "changed\n";
  CHECK(inst.install(sysctl()).outcome == conf_file_outcome::installed);
  CHECK(slurp(target) == "changed\n");
  CHECK(w.ran == std::vector<std::string>{"pre", "post"});
}

TEST_CASE("a failing preinstall command runs error_cmd and stops unless errors are ignored") {
  scratch tmp;
  world w;
  w.served[url] = "new";
  w.status["pre"] = 2;
  conf_file_installer inst{{"boot.example.org", 7, tmp.dir}, w.hooks()};
  auto target = tmp.dir / "etc/planetlab/sysctl.conf";
  auto r = inst.install(sysctl());
  CHECK(r.outcome == conf_file_outcome::refused);
  CHECK(r.detail == "preinstall_cmd failed (status 2)");
  CHECK(w.ran == std::vector<std::string>{"pre", "oops"});
  CHECK_FALSE(fs::exists(target));

  w.ran.clear();
  auto f = sysctl();
  f.ignore_cmd_errors = true;
  r = inst.install(f);
  CHECK(r.outcome == conf_file_outcome::installed);
  CHECK(r.detail == "preinstall_cmd failed (status 2), ignored");
  CHECK(w.ran == std::vector<std::string>{"pre", "oops", "post"});
  CHECK(slurp(target) == "new");
}

TEST_CASE("a failing postinstall command runs error_cmd; the file stays installed") {
  scratch tmp;
  world w;
  w.served[url] = "new";
  w.status["post"] = 5;
  conf_file_installer inst{{"boot.example.org", 7, tmp.dir}, w.hooks()};
  auto r = inst.install(sysctl());
  CHECK(r.outcome == conf_file_outcome::installed);
  CHECK(r.detail == "postinstall_cmd failed (status 5)");
  CHECK(w.ran == std::vector<std::string>{"pre", "post", "oops"});
  CHECK(slurp(tmp.dir / "etc/planetlab/sysctl.conf") == "new");
  // Empty commands are not run.
  w.ran.clear();
  w.served[url] = "newer";
  auto f = sysctl();
  f.preinstall_cmd.clear();
  f.postinstall_cmd.clear();
  CHECK(inst.install(f).outcome == conf_file_outcome::installed);
  CHECK(w.ran.empty());
}

TEST_CASE("bad records, unknown accounts and fetch failures change nothing") {
  scratch tmp;
  world w;
  w.served[url] = "x";
  conf_file_installer inst{{"boot.example.org", 7, tmp.dir}, w.hooks()};
  auto expect_failed = [&](conf_file f, const std::string& detail) {
    auto r = inst.install(f);
    CHECK(r.outcome == conf_file_outcome::failed);
    CHECK(r.detail == detail);
  };
  auto f = sysctl();
  f.enabled = false;
  CHECK(inst.install(f).outcome == conf_file_outcome::disabled);
  CHECK(w.fetched.empty());
  f = sysctl();
  f.file_owner = "nobody_here";
  expect_failed(f, "cannot find user nobody_here");
  f = sysctl();
  f.file_group = "nogroup_here";
  expect_failed(f, "cannot find group nogroup_here");
  f = sysctl();
  f.file_permissions = "rw-r--r--";
  expect_failed(f, "file_permissions \"rw-r--r--\" is not an octal mode");
  f.file_permissions = "17777";
  expect_failed(f, "file_permissions \"17777\" is not an octal mode");
  f = sysctl();
  f.dest = "etc/relative";
  expect_failed(f, "dest must be an absolute file path without ..");
  f.dest = "/etc/../../escape";
  expect_failed(f, "dest must be an absolute file path without ..");
  f.dest = "/etc/dir/";
  expect_failed(f, "dest must be an absolute file path without ..");
  CHECK(w.fetched.empty());
  f = sysctl();
  f.source = "missing.php";
  expect_failed(f,
                "cannot fetch https://boot.example.org/missing.php?node_id=7: not_connected: 404");
  CHECK(w.ran.empty());
  CHECK(fs::is_empty(tmp.dir));
}

TEST_CASE("a write failure runs error_cmd and leaves no temporary file") {
  scratch tmp;
  world w;
  w.served[url] = "x";
  // /etc/planetlab is a file, so the directory cannot be made.
  fs::create_directories(tmp.dir / "etc");
  std::ofstream{tmp.dir / "etc/planetlab"} << "in the way";
  conf_file_installer inst{{"boot.example.org", 7, tmp.dir}, w.hooks()};
  auto r = inst.install(sysctl());
  CHECK(r.outcome == conf_file_outcome::failed);
  CHECK(r.detail.rfind("cannot create " + (tmp.dir / "etc/planetlab").string(), 0) == 0);
  CHECK(w.ran == std::vector<std::string>{"pre", "oops"});
  CHECK(slurp(tmp.dir / "etc/planetlab") == "in the way");
}

TEST_CASE("install_all goes on after a failure, in order") {
  scratch tmp;
  world w;
  w.served[url] = "x";
  w.served["https://boot.example.org/b?node_id=7"] = "b";
  conf_file_installer inst{{"boot.example.org", 7, tmp.dir}, w.hooks()};
  auto bad = sysctl();
  bad.file_owner = "ghost";
  auto b = sysctl();
  b.source = "b";
  b.dest = "/b";
  auto reports = inst.install_all({bad, sysctl(), b});
  REQUIRE(reports.size() == 3);
  CHECK(reports[0].outcome == conf_file_outcome::failed);
  CHECK(reports[1].outcome == conf_file_outcome::installed);
  CHECK(reports[2].outcome == conf_file_outcome::installed);
  CHECK(slurp(tmp.dir / "b") == "b");
}

TEST_CASE("the default command runner is /bin/sh with the exit status") {
  CHECK(run_shell("true") == 0);
  CHECK(run_shell("exit 3") == 3);
  CHECK(run_shell("kill -9 $$") == 128 + 9);
  scratch tmp;
  auto flag = tmp.dir / "ran";
  CHECK(run_shell("echo hi > '" + flag.string() + "'") == 0);
  CHECK(slurp(flag) == "hi\n");
}

TEST_CASE("as root, the owner and group from the system databases are applied") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: not root");
    return;
  }
  scratch tmp;
  world w;
  w.served[url] = "x";
  auto hooks = w.hooks();
  hooks.user = nullptr; // the system's passwd
  hooks.group = nullptr;
  conf_file_installer inst{{"boot.example.org", 7, tmp.dir}, hooks};
  auto f = sysctl();
  f.file_owner = "nobody";
  f.file_group = "nogroup";
  REQUIRE(inst.install(f).outcome == conf_file_outcome::installed);
  struct stat st {};
  REQUIRE(::stat((tmp.dir / "etc/planetlab/sysctl.conf").c_str(), &st) == 0);
  CHECK(st.st_uid == 65534);
  CHECK(st.st_gid == 65534);
  CHECK((st.st_mode & 07777) == 0600);
}
