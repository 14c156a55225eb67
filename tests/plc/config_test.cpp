// plcd's [auth] and [mail] configuration keys.
#include "plc/config.hpp"
#include "plc/ticket_key.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// Writes `text` to a temporary TOML file, removed at the end of the test.
struct toml_file {
  fs::path path;
  explicit toml_file(const std::string& text) {
    std::string tmpl = (fs::temp_directory_path() / "plcd-config-XXXXXX").string();
    int fd = mkstemp(tmpl.data());
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
    std::ofstream{path} << text;
  }
  ~toml_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

} // namespace

TEST_CASE("[auth] and [mail] keys are read, unset keys keep their defaults") {
  toml_file f{R"(
[auth]
throttle = false
account_failures = 3
window_s = 60

[mail]
backend = "smtp"
smtp_host = "relay.example.org"
smtp_port = 2525
smtp_timeout_ms = 1500
from = "plc@example.org"
plc_name = "TestLab"
support_address = "help@example.org"
www_host = "www.example.org"
www_port = 8443
)"};
  pl::plc::plcd_config cfg;
  pl::plc::load_toml(f.path, cfg);
  CHECK_FALSE(cfg.auth_throttle);
  CHECK(cfg.auth_account_failures == 3);
  CHECK(cfg.auth_address_failures == 20);
  CHECK(cfg.auth_window == 60s);
  CHECK(cfg.mail_backend == "smtp");
  CHECK(cfg.smtp_host == "relay.example.org");
  CHECK(cfg.smtp_port == 2525);
  CHECK(cfg.smtp_timeout == 1500ms);
  CHECK(cfg.mail_from == "plc@example.org");
  CHECK(cfg.plc_name == "TestLab");
  CHECK(cfg.mail_support_address == "help@example.org");
  CHECK(cfg.www_host == "www.example.org");
  CHECK(cfg.www_port == 8443);
  CHECK(cfg.mail_spool_dir.empty());
}

TEST_CASE("bad [auth] and [mail] values are refused with the key named") {
  pl::plc::plcd_config cfg;
  toml_file backend{"[mail]\nbackend = \"carrier-pigeon\"\n"};
  CHECK_THROWS_WITH(pl::plc::load_toml(backend.path, cfg), Catch::Contains("mail.backend"));
  toml_file port{"[mail]\nsmtp_port = 70000\n"};
  CHECK_THROWS_WITH(pl::plc::load_toml(port.path, cfg), Catch::Contains("mail.smtp_port"));
  toml_file window{"[auth]\nwindow_s = -1\n"};
  CHECK_THROWS_WITH(pl::plc::load_toml(window.path, cfg), Catch::Contains("auth.window_s"));
}

TEST_CASE("[tickets] pl3_key names the PL3 ticket key; unset, there is none") {
  pl::plc::plcd_config unset;
  CHECK(unset.pl3_ticket_key_file.empty());
  toml_file f{R"(
[tickets]
pl3_key = "/etc/planetlab/api_ticket.key"
)"};
  pl::plc::plcd_config cfg;
  pl::plc::load_toml(f.path, cfg);
  CHECK(cfg.pl3_ticket_key_file == "/etc/planetlab/api_ticket.key");
}

TEST_CASE("[plc] conf_dir and conf_max_bytes; unset, no directory is served") {
  pl::plc::plcd_config unset;
  CHECK(unset.conf_dir.empty());
  CHECK(unset.conf_max_bytes == 16u << 20);
  toml_file f{R"(
[plc]
conf_dir = "/etc/planetlab/PlanetLabConf"
conf_max_bytes = 4096
)"};
  pl::plc::plcd_config cfg;
  pl::plc::load_toml(f.path, cfg);
  CHECK(cfg.conf_dir == "/etc/planetlab/PlanetLabConf");
  CHECK(cfg.conf_max_bytes == 4096);
  toml_file bad{"[plc]\nconf_max_bytes = -1\n"};
  pl::plc::plcd_config untouched;
  CHECK_THROWS_WITH(pl::plc::load_toml(bad.path, untouched),
                    Catch::Contains("plc.conf_max_bytes must be a whole number"));
  toml_file bad_dir{"[plc]\nconf_dir = 3\n"};
  CHECK_THROWS_WITH(pl::plc::load_toml(bad_dir.path, untouched),
                    Catch::Contains("plc.conf_dir must be a string"));
}

TEST_CASE("[tickets] key and lifetime, [push] endpoint and TLS") {
  pl::plc::plcd_config defaults;
  CHECK(defaults.ticket_key_file.empty());
  CHECK(defaults.ticket_lifetime == 24h);
  CHECK_FALSE(defaults.push_enabled);
  toml_file f{R"(
[tickets]
key = "/etc/planetlab/ticket.key"
lifetime_s = 3600

[push]
enabled = true
address = "0.0.0.0"
port = 9000
cert = "/etc/planetlab/plc.crt"
key = "/etc/planetlab/plc.key"
cafile = "/etc/planetlab/nodes-ca.crt"
)"};
  pl::plc::plcd_config cfg;
  pl::plc::load_toml(f.path, cfg);
  CHECK(cfg.ticket_key_file == "/etc/planetlab/ticket.key");
  CHECK(cfg.ticket_lifetime == 1h);
  CHECK(cfg.push_enabled);
  CHECK(cfg.push_address == "0.0.0.0");
  CHECK(cfg.push_port == 9000);
  CHECK(cfg.push_cert_file == "/etc/planetlab/plc.crt");
  CHECK(cfg.push_key_file == "/etc/planetlab/plc.key");
  CHECK(cfg.push_cafile == "/etc/planetlab/nodes-ca.crt");
  // Where the key lives: the configured file; with --dev, the data directory.
  CHECK(pl::plc::ticket_key_path(cfg) == "/etc/planetlab/ticket.key");
  CHECK(pl::plc::ticket_public_key_path(cfg.ticket_key_file) == "/etc/planetlab/ticket.pub");
  pl::plc::plcd_config dev;
  CHECK(pl::plc::ticket_key_path(dev).empty()); // production without a key: tickets off
  dev.dev = true;
  dev.data_dir = "/var/lib/plc";
  CHECK(pl::plc::ticket_key_path(dev) == "/var/lib/plc/keys/ticket.key");

  pl::plc::plcd_config bad;
  toml_file zero{"[tickets]\nlifetime_s = 0\n"};
  CHECK_THROWS_WITH(pl::plc::load_toml(zero.path, bad), Catch::Contains("tickets.lifetime_s"));
  CHECK(bad.ticket_lifetime == 24h); // unchanged
  toml_file half{"[push]\ncert = \"/etc/planetlab/plc.crt\"\n"};
  CHECK_THROWS_WITH(pl::plc::load_toml(half.path, bad), Catch::Contains("push.cafile"));
  CHECK(bad.push_cert_file.empty());
  toml_file port{"[push]\nport = 65536\n"};
  CHECK_THROWS_WITH(pl::plc::load_toml(port.path, bad), Catch::Contains("push.port"));
}

TEST_CASE("the ticket key is made once, kept private, and its public half exported") {
  auto dir = fs::temp_directory_path() / ("plcd-ticket-key-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto file = dir / "keys" / "ticket.key";
  auto made = pl::plc::ensure_ticket_key(file);
  CHECK((fs::status(file).permissions() & (fs::perms::group_all | fs::perms::others_all)) ==
        fs::perms::none);
  auto pub = pl::verify_key::load(dir / "keys" / "ticket.pub");
  REQUIRE(pub);
  CHECK(pub->id() == made.id());
  // The next start loads the same key; a lost public file is written again.
  fs::remove(dir / "keys" / "ticket.pub");
  auto again = pl::plc::ensure_ticket_key(file);
  CHECK(again.id() == made.id());
  CHECK(pl::verify_key::load(dir / "keys" / "ticket.pub")->id() == made.id());
  // A key others may read is refused, naming the file.
  fs::permissions(file, fs::perms::group_read, fs::perm_options::add);
  CHECK_THROWS_WITH(pl::plc::ensure_ticket_key(file), Catch::Contains(file.string()));
  fs::remove_all(dir);
}
