#include "drivers/state_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "actors/errors.hpp"
#include "drivers/linux/fs_util.hpp"
#include "drivers/mechanism_driver.hpp"

namespace pl::drivers {

state_store::state_store(std::filesystem::path dir)
    : dir_(std::move(dir)) {}

caf::error state_store::put(const std::string& sliver, const values& xs) {
  std::string text;
  for (const auto& [k, v] : xs)
    text += k + "=" + std::to_string(v) + "\n";
  if (in_memory()) {
    text.shrink_to_fit();
    mem_[sliver] = std::move(text);
    return {};
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    return make_error(errc::mechanism_failure, "mkdir " + dir_.string() + ": " + ec.message());
  auto tmp = dir_ / ("." + sliver + ".tmp");
  if (auto err = linux_fs::write_text(tmp, text))
    return err;
  if (std::rename(tmp.c_str(), (dir_ / sliver).c_str()) != 0)
    return linux_fs::os_error("rename " + tmp.string(), errno);
  return {};
}

std::optional<state_store::values> state_store::get(const std::string& sliver) const {
  std::optional<std::string> text;
  if (in_memory()) {
    if (auto i = mem_.find(sliver); i != mem_.end())
      text = i->second;
  } else {
    if (auto file = linux_fs::read_text(dir_ / sliver))
      text = std::move(*file);
  }
  if (!text)
    return std::nullopt;
  values out;
  std::istringstream in{*text};
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    try {
      out[line.substr(0, eq)] = std::stoll(line.substr(eq + 1));
    } catch (...) {
      // A damaged line is skipped; the rest of the record still counts.
    }
  }
  return out;
}

caf::error state_store::erase(const std::string& sliver) {
  if (in_memory()) {
    mem_.erase(sliver);
    return {};
  }
  std::error_code ec;
  std::filesystem::remove(dir_ / sliver, ec);
  if (ec)
    return make_error(errc::mechanism_failure, "remove " + (dir_ / sliver).string());
  return {};
}

std::vector<std::string> state_store::list() const {
  std::vector<std::string> out;
  if (in_memory()) {
    for (const auto& [name, text] : mem_)
      out.push_back(name);
    return out;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator{dir_, ec}) {
    auto name = entry.path().filename().string();
    if (valid_sliver_name(name))
      out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace pl::drivers
