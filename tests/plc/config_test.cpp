// plcd's [auth] and [mail] configuration keys.
#include "plc/config.hpp"

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
