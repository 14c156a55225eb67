#pragma once

// A scratch directory for the node suites, removed with everything under it
// when it goes out of scope, also after a failed check.

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace pl::node::test {

struct scratch {
  std::filesystem::path dir;
  scratch() {
    auto tmpl = (std::filesystem::temp_directory_path() / "pl-node-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
  }
  ~scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
};

} // namespace pl::node::test
