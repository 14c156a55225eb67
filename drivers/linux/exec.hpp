#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace pl::drivers::linux_exec {

/// Runs a program (looked up on PATH) with `argv`, waits for it and returns its
/// standard output; a non-zero exit is `errc::mechanism_failure` carrying the
/// command and its output.
caf::expected<std::string> run(const std::vector<std::string>& argv);

/// Runs `argv` like `run`, inside the network namespace of `netns_file`
/// (`/proc/<pid>/ns/net`, `/run/netns/<name>`; empty: here), with `input`
/// as its standard input when not empty (else the caller's).
caf::expected<std::string> run_in(const std::string& netns_file,
                                  const std::vector<std::string>& argv,
                                  const std::string& input = {});

} // namespace pl::drivers::linux_exec
