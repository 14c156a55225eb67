#include "drivers/linux/exec.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/errors.hpp"
#include "drivers/linux/fs_util.hpp"

namespace pl::drivers::linux_exec {

caf::expected<std::string> run(const std::vector<std::string>& argv) {
  return run_in({}, argv);
}

caf::expected<std::string> run_in(const std::string& netns_file,
                                  const std::vector<std::string>& argv, const std::string& input) {
  // The input goes through a memfd: no pipe to keep flowing, no SIGPIPE
  // when the program exits without reading it all.
  int in = -1;
  if (!input.empty()) {
    in = ::memfd_create("pl-exec-input", MFD_CLOEXEC);
    if (in < 0)
      return linux_fs::os_error("memfd_create", errno);
    for (std::size_t at = 0; at < input.size();) {
      auto n = ::write(in, input.data() + at, input.size() - at);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        auto err = errno;
        ::close(in);
        return linux_fs::os_error("write memfd", err);
      }
      at += static_cast<std::size_t>(n);
    }
    ::lseek(in, 0, SEEK_SET);
  }
  struct closer {
    int& fd;
    ~closer() {
      if (fd >= 0)
        ::close(fd);
    }
  } close_in{in};
  int ns = -1;
  if (!netns_file.empty()) {
    ns = ::open(netns_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0)
      return linux_fs::os_error("open " + netns_file, errno);
  }
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string cmd;
  for (const auto& a : argv)
    cmd += (cmd.empty() ? "" : " ") + a;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    auto err = errno;
    if (ns >= 0)
      ::close(ns);
    return linux_fs::os_error("pipe", err);
  }
  auto pid = ::fork();
  if (pid < 0) {
    auto err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    if (ns >= 0)
      ::close(ns);
    return linux_fs::os_error("fork", err);
  }
  if (pid == 0) {
    if (ns >= 0 && ::setns(ns, CLONE_NEWNET) != 0)
      ::_exit(126);
    if (in >= 0)
      ::dup2(in, 0);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (ns >= 0)
    ::close(ns);
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error(errc::mechanism_failure, cmd + " failed: " + out);
  return out;
}

} // namespace pl::drivers::linux_exec
