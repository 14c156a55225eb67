#include "plc/ticket_key.hpp"

#include "plc/config.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

namespace fs = std::filesystem;

namespace pl::plc {

fs::path ticket_key_path(const plcd_config& cfg) {
  if (!cfg.ticket_key_file.empty())
    return cfg.ticket_key_file;
  if (cfg.dev && !cfg.data_dir.empty())
    return cfg.data_dir / "keys" / "ticket.key";
  return {};
}

fs::path ticket_public_key_path(const fs::path& key_file) {
  auto pub = key_file;
  pub.replace_extension(".pub");
  return pub;
}

signing_key ensure_ticket_key(const fs::path& key_file) {
  if (key_file.empty())
    throw std::runtime_error("no ticket key file given");
  auto dir = key_file.parent_path();
  if (!dir.empty() && !fs::exists(dir)) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
      throw std::runtime_error("ticket key: cannot create " + dir.string() + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  auto key = signing_key::load_or_generate(key_file);
  if (!key)
    throw std::runtime_error("ticket key " + key_file.string() + ": " + key.error());
  auto pub_file = ticket_public_key_path(key_file);
  const std::string pem = key->public_key().pem();
  std::string existing;
  if (std::ifstream in{pub_file}; in)
    existing.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
  if (existing != pem) {
    if (auto saved = key->public_key().save(pub_file); !saved)
      throw std::runtime_error("ticket key: cannot write " + pub_file.string() + ": " +
                               saved.error());
  }
  return std::move(*key);
}

} // namespace pl::plc
