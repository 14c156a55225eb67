#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace pl::drivers::linux_fs {

/// Reads a whole (small) file, e.g. a cgroup knob.
caf::expected<std::string> read_text(const std::filesystem::path& file);

/// Writes `text` to `file` with one write(2), as cgroupfs and procfs expect;
/// the file is created when missing (fake cgroup trees in tests).
caf::error write_text(const std::filesystem::path& file, const std::string& text);

/// Reads a knob holding one integer; `max` reads as INT64_MAX.
caf::expected<std::int64_t> read_int(const std::filesystem::path& file);

/// Returns `errc::mechanism_failure` naming `what` and `strerror(errno_value)`.
caf::error os_error(const std::string& what, int errno_value);

} // namespace pl::drivers::linux_fs
