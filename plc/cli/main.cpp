// plc: call PLCAPI methods from a shell (see `plc --help` and plc/README.md).

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include "actors/xmlrpc_client.hpp"
#include "plc/cli/literal.hpp"
#include "plc/cli/pretty.hpp"

namespace {

constexpr int exit_fault = 1;
constexpr int exit_failure = 2;

constexpr const char* description =
    R"(Calls one PLCAPI method and prints its result as indented JSON.

  plc [OPTIONS] METHOD [ARGS...]

ARGS are JSON values, plus:
  - a bare word is a string:              plc GetPersons admin@localhost
  - None or null is nil, True/False are booleans, 'single quotes' are strings,
    also inside lists and structs:        plc GetSites "{'login_base': 'pl', 'enabled': True}"
  - integers beyond 32 bits are sent as i8; quote a string that looks like a number: '"42"'

The auth struct is added as the first argument of every method except system.*:
  --session ID (or session in the config file)  -> {AuthMethod: session, session: ID}
  --user EMAIL (or user in the config file)     -> {AuthMethod: password, Username, AuthString}
  neither                                       -> {AuthMethod: anonymous}
The password comes from the config file, else the PLC_PASSWORD environment variable, else a
prompt (echo off) when stdin is a terminal.

Configuration (TOML; the first that exists of --config, $XDG_CONFIG_HOME/planetlab/plc.toml,
~/.config/planetlab/plc.toml, /etc/planetlab/plc.toml); flags override it:
  url = "https://plc.example.org/PLCAPI/"
  user = "pi@example.org"
  password = "..."          # or: session = "..."
  cafile = "/etc/planetlab/plc.crt"

Exit status: 0 result printed on stdout; 1 fault, printed on stderr as "fault <code>: <string>";
2 no answer (usage, configuration, connection, TLS or HTTP error).

Examples:
  plc --url https://127.0.0.1:8443/PLCAPI/ --cafile data/tls/plc.crt system.listMethods
  PLC_PASSWORD=secret plc --user admin@localhost AuthCheck
  plc GetSites '[1, 2]' '["site_id", "name"]'
  plc GetPersons "{'email': '*@example.org', '-SORT': 'email'}" None
  plc system.methodHelp AuthCheck)";

struct settings {
  std::string url;
  std::string user;
  std::string password;
  std::string session;
  std::string cafile;
  bool insecure = false;
};

/// Returns the configuration file to read: the one given, else the first default that exists.
std::optional<std::filesystem::path> config_path(const std::string& given) {
  if (!given.empty())
    return std::filesystem::path{given};
  std::vector<std::filesystem::path> candidates;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    candidates.emplace_back(std::filesystem::path{xdg} / "planetlab" / "plc.toml");
  if (const char* home = std::getenv("HOME"); home && *home)
    candidates.emplace_back(std::filesystem::path{home} / ".config" / "planetlab" / "plc.toml");
  candidates.emplace_back("/etc/planetlab/plc.toml");
  for (const auto& p : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec))
      return p;
  }
  return std::nullopt;
}

/// Reads the configuration file into `out`; returns an error message or nothing.
std::optional<std::string> load_config(const std::filesystem::path& path, settings& out) {
  toml::table tbl;
  try {
    tbl = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    return path.string() + ": " + std::string{e.description()};
  }
  for (auto&& [key, node] : tbl) {
    auto name = std::string{key.str()};
    std::string* target = nullptr;
    if (name == "url")
      target = &out.url;
    else if (name == "user")
      target = &out.user;
    else if (name == "password")
      target = &out.password;
    else if (name == "session")
      target = &out.session;
    else if (name == "cafile")
      target = &out.cafile;
    if (name == "insecure") {
      auto b = node.value<bool>();
      if (!b)
        return path.string() + ": insecure must be true or false";
      out.insecure = *b;
      continue;
    }
    if (!target)
      return path.string() + ": unknown key '" + name + "'";
    auto s = node.value<std::string>();
    if (!s)
      return path.string() + ": " + name + " must be a string";
    *target = *s;
  }
  return std::nullopt;
}

/// Reads a password from the terminal with echo off; nothing if stdin is no terminal.
std::optional<std::string> prompt_password(const std::string& user) {
  if (!::isatty(STDIN_FILENO))
    return std::nullopt;
  // Echo goes off before the prompt appears, so nothing typed after the prompt is echoed (or
  // discarded by the flush of earlier typeahead).
  termios old{};
  bool restore = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    restore = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  std::cerr << "Password for " << user << ": " << std::flush;
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (restore)
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << '\n';
  if (!got)
    return std::nullopt;
  return line;
}

int fail(const std::string& message) {
  std::cerr << "plc: " << message << '\n';
  return exit_failure;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{description, "plc"};
  app.formatter(std::make_shared<CLI::Formatter>());
  settings flags;
  std::string config_file;
  app.add_option("--url", flags.url, "PLCAPI URL (https://host[:port]/PLCAPI/)");
  app.add_option("--user", flags.user, "account e-mail for password authentication");
  app.add_option("--session", flags.session, "session key for session authentication");
  app.add_option("--cafile", flags.cafile,
                 "PEM file of the CA (or self-signed certificate) to trust");
  app.add_flag("--insecure", flags.insecure, "do not verify the server's certificate");
  app.add_option("--config", config_file, "configuration file (TOML)");
  // METHOD and ARGS are taken as they are, so "-1" or "--x" can be arguments.
  app.prefix_command();
  app.footer("METHOD [ARGS...] follow the options (or '--').");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : exit_failure;
  }
  auto rest = app.remaining();
  if (!rest.empty() && rest.front() == "--")
    rest.erase(rest.begin());
  if (rest.empty())
    return fail("no METHOD given (plc --help shows how to call one)");
  std::string method = rest.front();
  if (method.starts_with("-"))
    return fail("unknown option " + method + " (plc --help lists the options)");

  settings cfg;
  if (auto path = config_path(config_file)) {
    std::error_code ec;
    if (!std::filesystem::exists(*path, ec))
      return fail("configuration file " + path->string() + " does not exist");
    if (auto error = load_config(*path, cfg))
      return fail(*error);
  }
  // Flags override the file; a user or session on the command line replaces the file's
  // credentials as a whole.
  if (!flags.url.empty())
    cfg.url = flags.url;
  if (!flags.cafile.empty())
    cfg.cafile = flags.cafile;
  if (flags.insecure)
    cfg.insecure = true;
  if (!flags.session.empty()) {
    cfg.session = flags.session;
    cfg.user.clear();
    cfg.password.clear();
  } else if (!flags.user.empty()) {
    if (flags.user != cfg.user)
      cfg.password.clear();
    cfg.user = flags.user;
    cfg.session.clear();
  }
  if (cfg.url.empty())
    return fail("no URL: pass --url or set url in the configuration file");

  std::vector<xmlrpc_c::value> params;
  if (method.rfind("system.", 0) != 0) {
    std::map<std::string, xmlrpc_c::value> auth;
    if (!cfg.session.empty()) {
      auth.emplace("AuthMethod", xmlrpc_c::value_string("session"));
      auth.emplace("session", xmlrpc_c::value_string(cfg.session));
    } else if (!cfg.user.empty()) {
      if (cfg.password.empty()) {
        if (const char* env = std::getenv("PLC_PASSWORD"); env && *env)
          cfg.password = env;
        else if (auto typed = prompt_password(cfg.user))
          cfg.password = *typed;
        else
          return fail("no password for " + cfg.user +
                      ": set PLC_PASSWORD, put it in the configuration file or run on a terminal");
      }
      auth.emplace("AuthMethod", xmlrpc_c::value_string("password"));
      auth.emplace("Username", xmlrpc_c::value_string(cfg.user));
      auth.emplace("AuthString", xmlrpc_c::value_string(cfg.password));
    } else {
      auth.emplace("AuthMethod", xmlrpc_c::value_string("anonymous"));
    }
    params.push_back(xmlrpc_c::value_struct(auth));
  }
  for (std::size_t i = 1; i < rest.size(); ++i) {
    auto arg = pl::plc::cli::parse_literal(rest[i]);
    if (!arg.ok)
      return fail("argument " + std::to_string(i) + ": " + arg.error);
    params.push_back(arg.value);
  }

  pl::client_options options;
  options.url = cfg.url;
  options.ca_file = cfg.cafile;
  options.verify = !cfg.insecure;
  pl::xmlrpc_client client{options};
  auto result = client.call(method, params);
  if (result.is_fault()) {
    std::cerr << "fault " << result.fault_code << ": " << result.fault_string << '\n';
    return exit_fault;
  }
  if (result.is_transport_error())
    return fail(result.error);
  std::cout << pl::plc::cli::pretty(result.value) << '\n';
  return 0;
}
