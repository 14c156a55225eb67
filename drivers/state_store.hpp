#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>

namespace pl::drivers {

/// Records small per-sliver key/value maps as files `<dir>/<sliver>` of
/// `key=value` lines, written atomically (temporary file, rename). The linux
/// drivers record what the kernel does not hold (e.g. `mem_share`), and resman
/// the administrator's overrides; a restarted driver reads them back.
///
/// With an empty `dir` the records are kept in this object instead (the
/// simulator's virtual nodes: their backend outlives a simulated crash, and a
/// file per sliver and mechanism costs a page of tmpfs each).
class state_store {
public:
  using values = std::map<std::string, std::int64_t>;

  explicit state_store(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }

  /// Whether the records are kept in memory (no directory).
  bool in_memory() const { return dir_.empty(); }

  /// Replaces the record of `sliver`.
  caf::error put(const std::string& sliver, const values& xs);

  /// Returns the record of `sliver`, if any.
  std::optional<values> get(const std::string& sliver) const;

  /// Deletes the record of `sliver` (no error when absent).
  caf::error erase(const std::string& sliver);

  /// Lists the slivers with a record.
  std::vector<std::string> list() const;

private:
  std::filesystem::path dir_;
  /// The records when `in_memory()`, each in the file's text form (one
  /// string per sliver takes less room than a map of its values).
  std::map<std::string, std::string> mem_;
};

} // namespace pl::drivers
