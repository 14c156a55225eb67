#include "plc/http/file_tree.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace pl::plc::http {

namespace {

constexpr const char* text_plain = "text/plain; charset=utf-8";

/// Closes a descriptor at the end of its scope.
class fd_guard {
public:
  explicit fd_guard(int fd)
      : fd_{fd} {}
  ~fd_guard() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }

private:
  int fd_;
};

file_answer refuse(unsigned status, std::string message) {
  return {status, text_plain, std::move(message) + "\n"};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Percent-decodes a URL path; nothing for a malformed escape.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size())
      return std::nullopt;
    int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

/// Opens `relative` beneath the directory `dir` without leaving it: openat2 with
/// RESOLVE_BENEATH where the kernel has it (symbolic links within the tree allowed), else one
/// component at a time with O_NOFOLLOW (no symbolic links at all). Returns the descriptor or
/// -1 with errno set (EXDEV or ELOOP for a link leading out).
int open_beneath(int dir, const std::string& relative) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, dir, relative.c_str(), &how, sizeof how);
  if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
    return static_cast<int>(fd);
  // No openat2 (old kernel, or a seccomp filter refusing it): walk the path refusing links.
  int current = ::dup(dir);
  std::size_t start = 0;
  while (current >= 0) {
    auto slash = relative.find('/', start);
    bool last = slash == std::string::npos;
    std::string part = relative.substr(start, last ? std::string::npos : slash - start);
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | (last ? O_NONBLOCK : O_DIRECTORY);
    int next = ::openat(current, part.c_str(), flags);
    int err = errno;
    ::close(current);
    errno = err;
    if (next < 0 || last)
      return next;
    current = next;
    start = slash + 1;
  }
  return -1;
}

} // namespace

bool in_tree(const file_tree& tree, std::string_view path) {
  return !tree.prefix.empty() && path.size() >= tree.prefix.size() &&
         path.substr(0, tree.prefix.size()) == tree.prefix;
}

std::string content_type_for(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 18> types{{
      {".txt", "text/plain; charset=utf-8"},
      {".conf", "text/plain; charset=utf-8"},
      {".cfg", "text/plain; charset=utf-8"},
      {".sh", "text/x-shellscript; charset=utf-8"},
      {".py", "text/x-python; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".xml", "application/xml"},
      {".json", "application/json"},
      {".pem", "application/x-pem-file"},
      {".crt", "application/x-x509-ca-cert"},
      {".pub", "text/plain; charset=utf-8"},
      {".gz", "application/gzip"},
      {".tgz", "application/gzip"},
      {".bz2", "application/x-bzip2"},
      {".xz", "application/x-xz"},
      {".tar", "application/x-tar"},
      {".rpm", "application/x-rpm"},
      {".deb", "application/vnd.debian.binary-package"},
  }};
  auto slash = file_name.rfind('/');
  auto base = slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
  auto dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0)
    return "text/plain; charset=utf-8"; // sudoers, hosts, crontab: configuration text
  auto ext = base.substr(dot);
  for (const auto& [suffix, type] : types) {
    if (ext.size() == suffix.size() &&
        std::equal(ext.begin(), ext.end(), suffix.begin(),
                   [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b; }))
      return std::string{type};
  }
  return "application/octet-stream";
}

file_answer read_tree_file(const file_tree& tree, std::string_view path) {
  if (!in_tree(tree, path))
    return refuse(404, "not found");
  auto decoded = percent_decode(path.substr(tree.prefix.size()));
  if (!decoded)
    return refuse(400, "malformed percent escape in the path");
  const std::string& relative = *decoded;
  if (relative.empty())
    return refuse(404, "not found: name a file under " + tree.prefix);
  if (relative.find('\0') != std::string::npos)
    return refuse(403, "forbidden: the path holds a NUL byte");
  std::size_t start = 0;
  while (start <= relative.size()) {
    auto slash = relative.find('/', start);
    auto segment = std::string_view{relative}.substr(
        start, slash == std::string::npos ? std::string::npos : slash - start);
    if (segment.empty() || segment.front() == '.')
      return refuse(403, "forbidden: empty, '.', '..' and hidden path segments are refused");
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }

  fd_guard root{::open(tree.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
  if (root.get() < 0)
    return refuse(404, "not found: no files are published here");
  fd_guard file{open_beneath(root.get(), relative)};
  if (file.get() < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR)
      return refuse(404, "not found: " + tree.prefix + relative);
    if (err == EXDEV || err == ELOOP)
      return refuse(403, "forbidden: " + tree.prefix + relative + " leads out of the tree");
    if (err == EACCES)
      return refuse(403, "forbidden: " + tree.prefix + relative + " is not readable");
    return refuse(500, std::string{"cannot open the file: "} + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0)
    return refuse(500, std::string{"cannot stat the file: "} + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return refuse(404, "not found: " + tree.prefix + relative + " is not a file");
  if (static_cast<std::uint64_t>(st.st_size) > tree.max_bytes)
    return refuse(403, "forbidden: " + tree.prefix + relative + " is larger than the limit of " +
                           std::to_string(tree.max_bytes) + " bytes");
  // O_NONBLOCK only kept a FIFO from blocking the open; a regular file reads normally.
  std::string body;
  body.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (true) {
    if (got == body.size()) {
      // The file may have grown since fstat: read on, within the limit.
      if (body.size() >= tree.max_bytes) {
        char probe;
        ssize_t n = ::read(file.get(), &probe, 1);
        if (n > 0)
          return refuse(403, "forbidden: " + tree.prefix + relative +
                                 " is larger than the limit of " + std::to_string(tree.max_bytes) +
                                 " bytes");
        if (n == 0)
          break;
        if (errno == EINTR)
          continue;
        return refuse(500, std::string{"cannot read the file: "} + std::strerror(errno));
      }
      body.resize(std::min(tree.max_bytes, std::max<std::size_t>(body.size() * 2, 4096)));
    }
    ssize_t n = ::read(file.get(), body.data() + got, body.size() - got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return refuse(500, std::string{"cannot read the file: "} + std::strerror(errno));
    }
    if (n == 0)
      break;
    got += static_cast<std::size_t>(n);
  }
  body.resize(got);
  return {200, content_type_for(relative), std::move(body)};
}

} // namespace pl::plc::http
