// plticket: make keys, issue, inspect and verify slice tickets (see `plticket --help`).

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "actors/clock.hpp"
#include "actors/ticket.hpp"
#include "actors/ticket_keys.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;
constexpr int exit_error = 2;

constexpr const char* description =
    R"(Makes PLC ticket keys and issues, inspects and verifies slice tickets.

  plticket keygen --out PLC.key [--pub PLC.pub] [--force]
  plticket pubkey PLC.key [--out PLC.pub]
  plticket issue --key PLC.key --slice NAME --slice-id N (--node ID... | --any-node)
                 (--expires EPOCH | --lifetime SECONDS) [--attr NAME=VALUE]... [--ssh-key LINE]...
  plticket inspect TICKET
  plticket verify --key PLC.pub [--key OLD.pub]... [--node ID] [--skew S] [--at EPOCH] TICKET

TICKET is the ticket text (pltk1:...), a file holding it, or - for standard input; surrounding
whitespace is ignored. inspect and verify print JSON on stdout: the decoded ticket, and for
verify {"verdict", "valid", "message", "ticket"}.

Exit status: 0 success (verify: the ticket is valid); 1 verify refused the ticket (the verdict
says why: malformed, unknown_key, bad_signature, expired, not_yet_valid, wrong_node) or inspect
could not parse it; 2 usage or file error.)";

nlohmann::json ticket_json(const pl::sliver_ticket& t) {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [name, value] : t.attributes)
    attrs[name] = value;
  return {
      {"format_version", pl::ticket_format_version},
      {"slice_name", t.slice_name},
      {"slice_id", t.slice_id},
      {"instantiation", t.instantiation},
      {"any_node", t.any_node},
      {"node_ids", t.node_ids},
      {"keys", t.keys},
      {"attributes", attrs},
      {"issued", t.issued},
      {"expires", t.expires},
      {"nonce", pl::to_hex(t.nonce)},
      {"key_id", pl::to_hex(t.key_id)},
  };
}

std::string trim(std::string s) {
  auto ws = " \t\r\n";
  auto first = s.find_first_not_of(ws);
  if (first == std::string::npos)
    return {};
  auto last = s.find_last_not_of(ws);
  return s.substr(first, last - first + 1);
}

/// Reads TICKET: the text itself, `-` for stdin, or a file holding it.
std::optional<std::string> read_ticket_arg(const std::string& arg) {
  if (arg == "-") {
    std::string text{std::istreambuf_iterator<char>{std::cin}, std::istreambuf_iterator<char>{}};
    return trim(std::move(text));
  }
  if (!arg.starts_with("pltk")) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(arg, ec)) {
      std::FILE* f = std::fopen(arg.c_str(), "rb");
      if (f == nullptr) {
        std::perror(arg.c_str());
        return std::nullopt;
      }
      std::string text;
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
        text.append(buf, n);
      bool failed = std::ferror(f) != 0;
      std::fclose(f);
      if (failed) {
        std::cerr << "plticket: " << arg << ": read error\n";
        return std::nullopt;
      }
      return trim(std::move(text));
    }
  }
  return trim(arg);
}

void print(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

int keygen(const std::string& out, const std::string& pub_out, bool force) {
  std::error_code ec;
  if (!force && std::filesystem::exists(std::filesystem::symlink_status(out, ec))) {
    std::cerr << "plticket: " << out << " exists; --force replaces it\n";
    return exit_error;
  }
  auto key = pl::signing_key::generate();
  if (!key) {
    std::cerr << "plticket: " << key.error() << "\n";
    return exit_error;
  }
  if (auto ok = key->save(out); !ok) {
    std::cerr << "plticket: " << ok.error() << "\n";
    return exit_error;
  }
  if (!pub_out.empty()) {
    if (auto ok = key->public_key().save(pub_out); !ok) {
      std::cerr << "plticket: " << ok.error() << "\n";
      return exit_error;
    }
  }
  std::cout << "key_id " << pl::to_hex(key->id()) << "\n";
  return exit_ok;
}

int pubkey(const std::string& key_file, const std::string& out) {
  auto key = pl::signing_key::load(key_file);
  if (!key) {
    std::cerr << "plticket: " << key.error() << "\n";
    return exit_error;
  }
  if (out.empty()) {
    std::cout << key->public_key().pem();
    return exit_ok;
  }
  if (auto ok = key->public_key().save(out); !ok) {
    std::cerr << "plticket: " << ok.error() << "\n";
    return exit_error;
  }
  std::cout << "key_id " << pl::to_hex(key->id()) << "\n";
  return exit_ok;
}

struct issue_args {
  std::string key_file;
  pl::sliver_ticket body;
  std::vector<std::string> attrs;
  std::optional<std::int64_t> expires;
  std::optional<std::int64_t> lifetime;
  std::optional<std::int64_t> at;
};

int issue(issue_args& a) {
  auto key = pl::signing_key::load(a.key_file);
  if (!key) {
    std::cerr << "plticket: " << key.error() << "\n";
    return exit_error;
  }
  for (const auto& kv : a.attrs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "plticket: --attr wants NAME=VALUE, got \"" << kv << "\"\n";
      return exit_error;
    }
    a.body.attributes[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  pl::system_clock_source system_clock;
  std::optional<pl::manual_clock> fixed;
  if (a.at)
    fixed.emplace(pl::clock::time_point{std::chrono::seconds{*a.at}});
  const pl::clock& clk = fixed ? static_cast<const pl::clock&>(*fixed) : system_clock;
  if (a.expires.has_value() == a.lifetime.has_value()) {
    std::cerr << "plticket: give exactly one of --expires and --lifetime\n";
    return exit_error;
  }
  a.body.expires = a.expires ? *a.expires : clk.now_epoch() + *a.lifetime;
  auto t = pl::issue_ticket(a.body, *key, clk);
  if (!t) {
    std::cerr << "plticket: " << t.error() << "\n";
    return exit_error;
  }
  std::cout << t->text() << "\n";
  return exit_ok;
}

int inspect(const std::string& arg) {
  auto text = read_ticket_arg(arg);
  if (!text)
    return exit_error;
  auto t = pl::parse_ticket(*text);
  if (!t) {
    std::cerr << "plticket: " << t.error() << "\n";
    return exit_refused;
  }
  auto j = ticket_json(t->body);
  j["signature"] = pl::to_hex(t->signature);
  print(j);
  return exit_ok;
}

int verify(const std::vector<std::string>& key_files, std::optional<std::int32_t> node,
           std::int64_t skew, std::optional<std::int64_t> at, const std::string& arg) {
  pl::ticket_keyring keys;
  for (const auto& file : key_files) {
    auto key = pl::verify_key::load(file);
    if (!key) {
      std::cerr << "plticket: " << key.error() << "\n";
      return exit_error;
    }
    keys.add(*key);
  }
  auto text = read_ticket_arg(arg);
  if (!text)
    return exit_error;
  pl::system_clock_source system_clock;
  std::optional<pl::manual_clock> fixed;
  if (at)
    fixed.emplace(pl::clock::time_point{std::chrono::seconds{*at}});
  const pl::clock& clk = fixed ? static_cast<const pl::clock&>(*fixed) : system_clock;
  auto check = pl::verify_ticket(*text, keys, clk, {.node_id = node, .skew = skew});
  nlohmann::json out = {
      {"verdict", std::string{pl::to_string(check.verdict)}},
      {"valid", check.valid()},
      {"message", check.message},
      {"ticket", check.ticket ? ticket_json(check.ticket->body) : nlohmann::json(nullptr)},
  };
  print(out);
  if (!check.valid())
    std::cerr << "plticket: refused (" << pl::to_string(check.verdict) << "): " << check.message
              << "\n";
  return check.valid() ? exit_ok : exit_refused;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{description, "plticket"};
  app.require_subcommand(1);

  auto* kg = app.add_subcommand("keygen", "generate a PLC ticket key (private PEM, mode 0600)");
  std::string kg_out, kg_pub;
  bool kg_force = false;
  kg->add_option("--out", kg_out, "private key file to write")->required();
  kg->add_option("--pub", kg_pub, "also write the public key PEM here");
  kg->add_flag("--force", kg_force, "replace an existing private key file");

  auto* pk = app.add_subcommand("pubkey", "print or write the public key of a private key");
  std::string pk_key, pk_out;
  pk->add_option("KEY", pk_key, "private key file")->required();
  pk->add_option("--out", pk_out, "write the public PEM here instead of stdout");

  auto* is = app.add_subcommand("issue", "sign a ticket (PLC's GetSliceTicket does this too)");
  issue_args ia;
  ia.body.instantiation = "plc-instantiated";
  is->add_option("--key", ia.key_file, "private key file")->required();
  is->add_option("--slice", ia.body.slice_name, "slice name")->required();
  is->add_option("--slice-id", ia.body.slice_id, "slice id")->required();
  auto* nodes = is->add_option("--node", ia.body.node_ids, "node id (repeatable)");
  is->add_flag("--any-node", ia.body.any_node, "redeemable on any node")->excludes(nodes);
  is->add_option("--instantiation", ia.body.instantiation, "default plc-instantiated");
  is->add_option("--attr", ia.attrs, "slice attribute NAME=VALUE (repeatable)");
  is->add_option("--ssh-key", ia.body.keys, "authorized_keys line (repeatable)");
  is->add_option("--expires", ia.expires, "absolute expiry, epoch seconds");
  is->add_option("--lifetime", ia.lifetime, "expiry relative to the issue time, seconds");
  is->add_option("--at", ia.at, "issue as if the time were EPOCH (for tests)");

  auto* in = app.add_subcommand("inspect", "decode a ticket without verifying it");
  std::string in_ticket;
  in->add_option("TICKET", in_ticket, "ticket text, file, or - for stdin")->required();

  auto* vf = app.add_subcommand("verify", "verify a ticket against PLC public keys");
  std::vector<std::string> vf_keys;
  std::optional<std::int32_t> vf_node;
  std::int64_t vf_skew = 300;
  std::optional<std::int64_t> vf_at;
  std::string vf_ticket;
  vf->add_option("--key", vf_keys, "PLC public key PEM (repeatable)")->required();
  vf->add_option("--node", vf_node, "the redeeming node's id (checks the node set)");
  vf->add_option("--skew", vf_skew, "clock-skew allowance in seconds (default 300)")
      ->check(CLI::NonNegativeNumber);
  vf->add_option("--at", vf_at, "verify as if the time were EPOCH");
  vf->add_option("TICKET", vf_ticket, "ticket text, file, or - for stdin")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_error;
  }
  if (kg->parsed())
    return keygen(kg_out, kg_pub, kg_force);
  if (pk->parsed())
    return pubkey(pk_key, pk_out);
  if (is->parsed())
    return issue(ia);
  if (in->parsed())
    return inspect(in_ticket);
  return verify(vf_keys, vf_node, vf_skew, vf_at, vf_ticket);
}
