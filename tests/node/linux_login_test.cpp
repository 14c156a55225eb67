// node/login as root (SKIPPED otherwise): host accounts and authorized keys
// for slivers, their refusals (changing nothing), the container wrapper, and
// pl-vsh's configuration checks. Accounts and the group get names unique to
// the run and are removed even when a check fails.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/mechanism_driver.hpp"
#include "node/login.hpp"

namespace fs = std::filesystem;
using namespace pl;
using namespace pl::node::login;

namespace {

bool require_root() {
  if (::geteuid() == 0)
    return true;
  std::printf("SKIPPED: node.linux_login needs root (host accounts)\n");
  return false;
}

std::string read_file(const fs::path& p) {
  std::ifstream in{p};
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out{p};
  out << text;
}

std::optional<passwd> account(const std::string& name) {
  auto* pw = ::getpwnam(name.c_str());
  if (!pw)
    return std::nullopt;
  return *pw;
}

std::string shell_of(const std::string& name) {
  auto* pw = ::getpwnam(name.c_str());
  return pw ? pw->pw_shell : "";
}

unsigned free_uid(std::mt19937& rng) {
  std::uniform_int_distribution<unsigned> d(40000, 59999);
  for (;;) {
    auto uid = d(rng);
    if (!::getpwuid(uid))
      return uid;
  }
}

/// A temporary root-owned directory, host accounts and a group, all removed
/// at the end.
struct fixture {
  fs::path dir;
  std::string tag;
  login_options opts;
  std::vector<std::string> users;
  std::mt19937 rng{std::random_device{}()};

  fixture() {
    char tmpl[] = "/tmp/pl-login-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    tag = std::to_string(rng() % 1000000);
    opts.vsh = dir / "pl-vsh";
    opts.keys_dir = dir / "keys";
    opts.group = "plg" + tag;
  }
  ~fixture() {
    for (const auto& u : users)
      if (account(u))
        std::system(("userdel " + u + " >/dev/null 2>&1").c_str());
    if (::getgrnam(opts.group.c_str()))
      std::system(("groupdel " + opts.group + " >/dev/null 2>&1").c_str());
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string user(const std::string& base) {
    users.push_back(base + tag);
    return users.back();
  }
};

struct fake_containers : drivers::container_backend {
  std::vector<std::string> calls;
  caf::error fail_create;
  caf::error create(const sliver_spec& spec) override {
    calls.push_back("create " + spec.name);
    return fail_create;
  }
  caf::error start(const std::string& n) override {
    calls.push_back("start " + n);
    return {};
  }
  caf::error stop(const std::string& n) override {
    calls.push_back("stop " + n);
    return {};
  }
  caf::error destroy(const std::string& n) override {
    calls.push_back("destroy " + n);
    return {};
  }
  std::vector<std::string> containers() const override { return {}; }
  bool running(const std::string&) const override { return false; }
};

} // namespace

TEST_CASE("the sshd drop-in reads the keys nodemgr writes and forbids forwarding to slices") {
  login_options o;
  o.keys_dir = "/var/lib/x/keys";
  o.group = "slices";
  auto text = sshd_dropin(o);
  CHECK(text.find("AuthorizedKeysFile .ssh/authorized_keys /var/lib/x/keys/%u\n") !=
        std::string::npos);
  auto match = text.find("Match Group slices\n");
  REQUIRE(match != std::string::npos);
  for (auto line : {"AllowTcpForwarding no", "AllowStreamLocalForwarding no", "X11Forwarding no",
                    "PermitTunnel no", "PasswordAuthentication no"})
    CHECK(text.find(line, match) != std::string::npos);
  // The Match block is closed, so a file included before other settings
  // does not swallow them.
  CHECK(text.substr(text.size() - 10) == "Match all\n");
}

TEST_CASE("slice accounts: made, updated, refused, removed") {
  if (!require_root())
    return;
  fixture f;
  auto name = f.user("pla");
  auto uid = free_uid(f.rng);

  SECTION("an account with the sliver's uid, pl-vsh and its keys, one line each") {
    REQUIRE_FALSE(add_account(f.opts, name, uid,
                              {"ssh-ed25519 AAAAkey1 a@x  ", "ssh-ed25519 AAAAkey2\ncommand=\"x\"",
                               "", "ssh-rsa AAAAkey3 b@x"}));
    auto a = account(name);
    REQUIRE(a);
    CHECK(a->pw_uid == uid);
    CHECK(std::string{a->pw_shell} == f.opts.vsh.string());
    CHECK(std::string{a->pw_dir} == "/");
    auto* g = ::getgrnam(f.opts.group.c_str());
    REQUIRE(g);
    CHECK(a->pw_gid == g->gr_gid);
    CHECK(is_slice_account(f.opts, name));
    auto keys = f.opts.keys_dir / name;
    CHECK(read_file(keys) == "ssh-ed25519 AAAAkey1 a@x\nssh-rsa AAAAkey3 b@x\n");
    struct stat st {};
    REQUIRE(::stat(keys.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);
    CHECK(st.st_uid == 0);
    CHECK_FALSE(fs::exists(keys.string() + ".tmp"));

    // New keys from PLC replace the file; the account stays as it is.
    REQUIRE_FALSE(add_account(f.opts, name, uid, {"ssh-ed25519 AAAAkey9"}));
    CHECK(read_file(keys) == "ssh-ed25519 AAAAkey9\n");
    CHECK(account(name)->pw_uid == uid);

    // Another uid for the same name: refused, nothing changes.
    auto err = add_account(f.opts, name, uid + 1, {"ssh-ed25519 other"});
    REQUIRE(err);
    CHECK_THAT(drivers::describe(err), Catch::Contains("has uid " + std::to_string(uid)));
    CHECK(read_file(keys) == "ssh-ed25519 AAAAkey9\n");

    // The uid of another account: refused, no account, no keys.
    auto other = f.user("plb");
    err = add_account(f.opts, other, uid, {"ssh-ed25519 x"});
    REQUIRE(err);
    CHECK_THAT(drivers::describe(err), Catch::Contains("is taken by host account " + name));
    CHECK_FALSE(account(other));
    CHECK_FALSE(fs::exists(f.opts.keys_dir / other));

    REQUIRE_FALSE(remove_account(f.opts, name));
    CHECK_FALSE(account(name));
    CHECK_FALSE(fs::exists(keys));
    REQUIRE_FALSE(remove_account(f.opts, name)); // gone already: fine
  }

  SECTION("an account that is not a slice account is neither taken over nor removed") {
    REQUIRE(std::system(("useradd -M -s /bin/false " + name).c_str()) == 0);
    auto err = add_account(f.opts, name, uid, {"ssh-ed25519 x"});
    REQUIRE(err);
    CHECK_THAT(drivers::describe(err), Catch::Contains("is not a slice account"));
    CHECK(shell_of(name) == "/bin/false");
    CHECK_FALSE(fs::exists(f.opts.keys_dir / name));
    CHECK_FALSE(is_slice_account(f.opts, name));
    REQUIRE_FALSE(remove_account(f.opts, name));
    CHECK(account(name));
  }

  SECTION("bad names and uid 0 are refused") {
    for (auto bad : {"-x", "a/b", "", "a b"})
      CHECK(add_account(f.opts, bad, uid, {}));
    CHECK(add_account(f.opts, name, 0, {}));
    CHECK_FALSE(account(name));
    CHECK(remove_account(f.opts, "../etc"));
  }
}

TEST_CASE("with_logins: accounts follow the containers") {
  if (!require_root())
    return;
  fixture f;
  auto name = f.user("plc");
  auto inner = std::make_shared<fake_containers>();
  auto ct = with_logins(inner, f.opts);
  sliver_spec spec;
  spec.name = name;
  spec.slice_id = static_cast<std::int32_t>(free_uid(f.rng) - 10000);
  spec.keys = {"ssh-ed25519 AAAAk"};

  // A failed container create makes no account.
  inner->fail_create = make_error(errc::mechanism_failure, "no image");
  CHECK(ct->create(spec));
  CHECK_FALSE(account(name));
  inner->fail_create = {};

  REQUIRE_FALSE(ct->create(spec));
  auto a = account(name);
  REQUIRE(a);
  CHECK(a->pw_uid == static_cast<uid_t>(10000 + spec.slice_id));
  CHECK(read_file(f.opts.keys_dir / name) == "ssh-ed25519 AAAAk\n");
  REQUIRE_FALSE(ct->start(name));
  REQUIRE_FALSE(ct->destroy(name));
  CHECK_FALSE(account(name));
  CHECK_FALSE(fs::exists(f.opts.keys_dir / name));
  CHECK(inner->calls == std::vector<std::string>{"create " + name, "create " + name,
                                                 "start " + name, "destroy " + name});

  // No slice id: no account (uid 1000 would be shared).
  auto anon = f.user("pld");
  sliver_spec spec2;
  spec2.name = anon;
  REQUIRE_FALSE(ct->create(spec2));
  CHECK_FALSE(account(anon));
}

TEST_CASE("pl-vsh reads only a root-owned configuration nobody else may write") {
  if (!require_root())
    return;
  fixture f;
  auto conf = f.dir / "pl-vsh.conf";
  write_file(conf, vsh_config_text({.state_dir = "/var/lib/planetlab/nm-test"}));
  ::chmod(conf.c_str(), 0644);
  auto ok = load_vsh_config(conf);
  REQUIRE(ok);
  CHECK(ok->state_dir == "/var/lib/planetlab/nm-test");

  ::chmod(conf.c_str(), 0666);
  CHECK_FALSE(load_vsh_config(conf));
  ::chmod(conf.c_str(), 0644);
  REQUIRE(::chown(conf.c_str(), 65534, 0) == 0);
  auto err = load_vsh_config(conf);
  REQUIRE_FALSE(err);
  CHECK_THAT(drivers::describe(err.error()), Catch::Contains("must be owned by root"));
  REQUIRE(::chown(conf.c_str(), 0, 0) == 0);
  ::chmod(f.dir.c_str(), 0775);
  CHECK_FALSE(load_vsh_config(conf)); // its directory is group-writable
  ::chmod(f.dir.c_str(), 0700);

  write_file(conf, "# comment\nstate_dir=relative/dir\n");
  err = load_vsh_config(conf);
  REQUIRE_FALSE(err);
  CHECK_THAT(drivers::describe(err.error()), Catch::Contains(":2: state_dir must be an absolute"));
  write_file(conf, "state_dir=/x\nshell=/bin/sh\n");
  err = load_vsh_config(conf);
  REQUIRE_FALSE(err);
  CHECK_THAT(drivers::describe(err.error()), Catch::Contains(":2: unknown key 'shell'"));
  write_file(conf, "state_dir\n");
  CHECK_FALSE(load_vsh_config(conf));
  CHECK_FALSE(load_vsh_config(f.dir / "missing.conf"));
}
