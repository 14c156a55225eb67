#pragma once

#include <filesystem>
#include <optional>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "node/reconciler.hpp"

// Durable records (issue #6 point 11): the node manager's record set (PLC's
// specs with their timestamps, the last full snapshot's time, loans,
// overrides, Stop holds, what has been applied) in one file under the state
// directory, replaced atomically on every change, so a restart, even after
// kill -9, resumes where the node was.

namespace pl::node {

/// Reads and writes `node_records` in one file.
///
/// The file is a magic line `plnm-records 1\n` followed by CAF's binary
/// encoding of the records. `save` writes a temporary file beside it,
/// fsyncs it, renames it over the old one and fsyncs the directory, so a
/// crash leaves the old or the new file, never a mix.
class record_store {
public:
  explicit record_store(std::filesystem::path file)
      : file_(std::move(file)) {}

  const std::filesystem::path& file() const { return file_; }

  /// Returns the stored records; nullopt when there is no file yet. Errors
  /// (`errc::invalid_argument`): the file is not a record file, has another
  /// version, is truncated or has trailing bytes; `errc::mechanism_failure`:
  /// it cannot be read. A damaged file is never taken for an empty node.
  caf::expected<std::optional<node_records>> load() const;

  /// Replaces the file with `records` (`errc::mechanism_failure` when the
  /// directory cannot be written; the old file then stays).
  caf::error save(const node_records& records) const;

private:
  std::filesystem::path file_;
};

} // namespace pl::node
