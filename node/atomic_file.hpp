#pragma once

// Durable replacement of a small state file (records, tickets, byte caps,
// login keys): a crash or a concurrent reader sees the old content or the
// new, never a mix.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace pl::node {

struct replace_options {
  /// The file's mode, set explicitly (the umask does not narrow it).
  mode_t mode = 0600;
  /// Refuse a symbolic link at the temporary's name instead of writing through it.
  bool no_follow = false;
};

/// Writes `content` to `<file>.tmp`, fsyncs it, renames it onto `file` and
/// fsyncs the directory (best effort: the rename is done by then). Returns
/// what failed, naming the step and the path; the temporary is removed on
/// every failure.
std::optional<std::string> replace_file(const std::filesystem::path& file, std::string_view content,
                                        replace_options opts = {});

} // namespace pl::node
