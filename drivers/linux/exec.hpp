#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace pl::drivers::linux_exec {

/// Runs a program (looked up on PATH) with `argv`, waits for it and returns its
/// standard output; a non-zero exit is `errc::mechanism_failure` carrying the
/// command and its output.
caf::expected<std::string> run(const std::vector<std::string>& argv);

} // namespace pl::drivers::linux_exec
