#pragma once

// Helpers shared by the drivers suites: root checks, a private state
// directory, and child processes that report back through a pipe.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace pl::drivers::test {

/// Returns whether the suite runs as root; prints `SKIPPED: <why>` otherwise.
inline bool require_root(const char* what) {
  if (::geteuid() == 0)
    return true;
  std::printf("SKIPPED: %s needs root (cgroups, mounts, namespaces)\n", what);
  return false;
}

/// A temporary directory, removed with everything below it.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    char tmpl[] = "/tmp/pl-drivers-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
      std::abort();
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

/// A forked child running `fn` (which returns the exit code); killed and
/// reaped on destruction. `to_child` and `from_child` are pipes.
struct child {
  pid_t pid = -1;
  int to_child[2] = {-1, -1};
  int from_child[2] = {-1, -1};
  int status = 0;
  bool reaped = false;

  explicit child(std::function<int(child&)> fn) {
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0)
      std::abort();
    pid = ::fork();
    if (pid == 0) {
      ::close(to_child[1]);
      ::close(from_child[0]);
      ::_exit(fn(*this));
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
  }

  /// In the child: waits for one byte from the parent.
  void wait_go() {
    char c;
    while (::read(to_child[0], &c, 1) < 0) {
    }
  }

  /// In the parent: lets the child continue.
  void go() {
    char c = 'g';
    [[maybe_unused]] auto n = ::write(to_child[1], &c, 1);
  }

  /// In the child: sends a value to the parent.
  void report(long x) { [[maybe_unused]] auto n = ::write(from_child[1], &x, sizeof(x)); }

  /// In the parent: reads a value from the child; false on EOF (child died).
  bool receive(long& x) { return ::read(from_child[0], &x, sizeof(x)) == sizeof(x); }

  /// Waits for the child to end.
  int wait() {
    if (!reaped) {
      ::waitpid(pid, &status, 0);
      reaped = true;
    }
    return status;
  }

  /// Returns whether the child is still running.
  bool alive() {
    if (reaped)
      return false;
    auto r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid)
      reaped = true;
    return r == 0;
  }

  ~child() {
    if (!reaped) {
      ::kill(pid, SIGKILL);
      wait();
    }
    ::close(to_child[1]);
    ::close(from_child[0]);
  }
};

} // namespace pl::drivers::test
