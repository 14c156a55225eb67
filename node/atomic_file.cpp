#include "node/atomic_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pl::node {

namespace {

std::string failed(const char* step, const std::filesystem::path& p, int err) {
  return std::string{"cannot "} + step + " " + p.string() + ": " + std::strerror(err);
}

} // namespace

std::optional<std::string> replace_file(const std::filesystem::path& file, std::string_view content,
                                        replace_options opts) {
  auto dir = file.parent_path().empty() ? std::filesystem::path{"."} : file.parent_path();
  auto tmp = file;
  tmp += ".tmp";
  int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (opts.no_follow ? O_NOFOLLOW : 0);
  int fd = ::open(tmp.c_str(), flags, opts.mode);
  if (fd < 0)
    return failed("create", tmp, errno);
  auto give_up = [&](const char* step) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return failed(step, tmp, err);
  };
  const char* p = content.data();
  auto left = content.size();
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return give_up("write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, opts.mode) != 0)
    return give_up("chmod");
  if (::fsync(fd) != 0)
    return give_up("fsync");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return failed("close", tmp, err);
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return failed("rename onto", file, err);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return std::nullopt;
}

} // namespace pl::node
