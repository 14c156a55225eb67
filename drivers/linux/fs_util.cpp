#include "drivers/linux/fs_util.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <unistd.h>

#include "actors/errors.hpp"

namespace pl::drivers::linux_fs {

caf::error os_error(const std::string& what, int errno_value) {
  return make_error(errc::mechanism_failure, what + ": " + std::strerror(errno_value));
}

caf::expected<std::string> read_text(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return os_error("open " + file.string(), errno);
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      auto err = errno;
      ::close(fd);
      return os_error("read " + file.string(), err);
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

caf::error write_text(const std::filesystem::path& file, const std::string& text) {
  int fd = ::open(file.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return os_error("open " + file.string(), errno);
  auto n = ::write(fd, text.data(), text.size());
  auto err = errno;
  ::close(fd);
  if (n < 0)
    return os_error("write '" + text + "' to " + file.string(), err);
  if (static_cast<size_t>(n) != text.size())
    return os_error("short write to " + file.string(), EIO);
  return {};
}

caf::expected<std::int64_t> read_int(const std::filesystem::path& file) {
  auto text = read_text(file);
  if (!text)
    return text.error();
  auto s = *text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  if (s == "max")
    return std::numeric_limits<std::int64_t>::max();
  try {
    size_t pos = 0;
    auto v = std::stoll(s, &pos);
    return static_cast<std::int64_t>(v);
  } catch (...) {
    return make_error(errc::mechanism_failure, file.string() + " holds '" + s + "'");
  }
}

} // namespace pl::drivers::linux_fs
