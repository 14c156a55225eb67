#include "node/conf_file_installer.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "drivers/mechanism_driver.hpp"

extern char** environ;

namespace pl::node {

namespace fs = std::filesystem;

namespace {

std::optional<uid_t> system_user(const std::string& name) {
  std::array<char, 16384> buf{};
  passwd pw{};
  passwd* found = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return std::nullopt;
  return found->pw_uid;
}

std::optional<gid_t> system_group(const std::string& name) {
  std::array<char, 16384> buf{};
  group gr{};
  group* found = nullptr;
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return std::nullopt;
  return found->gr_gid;
}

// Parses PLCAPI's octal permission text ("644", "0600"); nothing when it is
// not octal or has bits beyond 07777.
std::optional<mode_t> parse_mode(const std::string& text) {
  if (text.empty() || text.size() > 5)
    return std::nullopt;
  mode_t m = 0;
  for (char c : text) {
    if (c < '0' || c > '7')
      return std::nullopt;
    m = m * 8 + static_cast<mode_t>(c - '0');
  }
  if (m > 07777)
    return std::nullopt;
  return m;
}

// Maps `dest` under the root; refuses relative paths and `..` (a conf file
// must not escape the root it is installed into).
std::optional<fs::path> under_root(const fs::path& root, const std::string& dest) {
  fs::path d{dest};
  if (!d.is_absolute() || d.filename().empty())
    return std::nullopt;
  for (const auto& part : d)
    if (part == "..")
      return std::nullopt;
  return root / d.relative_path();
}

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string errno_text(const char* what, const fs::path& p) {
  return std::string{what} + " " + p.string() + ": " + std::strerror(errno);
}

// Writes `data` to `target` atomically (temporary file, fsync, rename) with
// its mode and owner. Returns the error text, empty on success.
std::string write_atomically(const fs::path& target, const std::string& data, mode_t mode,
                             uid_t uid, gid_t gid) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec)
    return "cannot create " + target.parent_path().string() + ": " + ec.message();
  std::string tmpl = (target.parent_path() / ("." + target.filename().string() + ".nm-XXXXXX"));
  int fd = mkstemp(tmpl.data());
  if (fd < 0)
    return errno_text("cannot create a file beside", target);
  auto fail = [&](const char* what) {
    auto text = errno_text(what, target);
    ::close(fd);
    ::unlink(tmpl.c_str());
    return text;
  };
  std::size_t off = 0;
  while (off < data.size()) {
    auto n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail("cannot write");
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fchown(fd, uid, gid) != 0)
    return fail("cannot set the owner of");
  // After fchown, which may clear set-id bits.
  if (::fchmod(fd, mode) != 0)
    return fail("cannot set the mode of");
  if (::fsync(fd) != 0)
    return fail("cannot sync");
  if (::close(fd) != 0) {
    auto text = errno_text("cannot close", target);
    ::unlink(tmpl.c_str());
    return text;
  }
  if (::rename(tmpl.c_str(), target.c_str()) != 0) {
    auto text = errno_text("cannot rename onto", target);
    ::unlink(tmpl.c_str());
    return text;
  }
  return {};
}

} // namespace

std::string to_string(conf_file_outcome x) {
  switch (x) {
  case conf_file_outcome::disabled:
    return "disabled";
  case conf_file_outcome::unchanged:
    return "unchanged";
  case conf_file_outcome::installed:
    return "installed";
  case conf_file_outcome::refused:
    return "refused";
  case conf_file_outcome::failed:
    return "failed";
  }
  return "unknown";
}

std::string conf_file_url(const conf_file_options& options, const std::string& source) {
  std::string path = source;
  while (!path.empty() && path.front() == '/')
    path.erase(path.begin());
  auto url = "https://" + options.boot_host + "/" + path;
  if (options.node_id != 0)
    url += (path.find('?') != std::string::npos ? "&" : "?") +
           ("node_id=" + std::to_string(options.node_id));
  return url;
}

std::string sha1_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha1(), nullptr) != 1)
    return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 0xf];
  }
  return out;
}

int run_shell(const std::string& command) {
  pid_t pid = 0;
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0)
    return 127;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return 127;
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 127;
}

conf_file_installer::conf_file_installer(conf_file_options options, conf_file_hooks hooks)
    : options_(std::move(options))
    , hooks_(std::move(hooks)) {
  if (!hooks_.run)
    hooks_.run = run_shell;
  if (!hooks_.user)
    hooks_.user = system_user;
  if (!hooks_.group)
    hooks_.group = system_group;
}

conf_file_report conf_file_installer::install(const conf_file& file) {
  conf_file_report report;
  report.dest = file.dest;
  auto failed = [&](std::string why) {
    report.outcome = conf_file_outcome::failed;
    report.detail = std::move(why);
    return report;
  };
  if (!file.enabled) {
    report.outcome = conf_file_outcome::disabled;
    return report;
  }
  auto target = under_root(options_.root, file.dest);
  if (!target)
    return failed("dest must be an absolute file path without ..");
  auto mode = parse_mode(file.file_permissions);
  if (!mode)
    return failed("file_permissions \"" + file.file_permissions + "\" is not an octal mode");
  auto uid = hooks_.user(file.file_owner);
  if (!uid)
    return failed("cannot find user " + file.file_owner);
  auto gid = hooks_.group(file.file_group);
  if (!gid)
    return failed("cannot find group " + file.file_group);
  if (!hooks_.fetch)
    return failed("no way to fetch files");
  auto url = conf_file_url(options_, file.source);
  auto contents = hooks_.fetch(url);
  if (!contents)
    return failed("cannot fetch " + url + ": " + drivers::describe(contents.error()));

  if (!file.always_update) {
    auto current = read_file(*target);
    if (current && sha1_hex(*current) == sha1_hex(*contents)) {
      struct stat st {};
      if (::stat(target->c_str(), &st) == 0) {
        // The original left these alone; a changed mode or owner at PLC should
        // still reach the node.
        if ((st.st_uid != *uid || st.st_gid != *gid) && ::chown(target->c_str(), *uid, *gid) != 0)
          return failed(errno_text("cannot set the owner of", *target));
        if ((st.st_mode & 07777) != *mode && ::chmod(target->c_str(), *mode) != 0)
          return failed(errno_text("cannot set the mode of", *target));
      }
      report.outcome = conf_file_outcome::unchanged;
      return report;
    }
  }
  auto run = [&](const std::string& cmd) { return cmd.empty() ? 0 : hooks_.run(cmd); };
  if (auto status = run(file.preinstall_cmd); status != 0) {
    run(file.error_cmd);
    if (!file.ignore_cmd_errors) {
      report.outcome = conf_file_outcome::refused;
      report.detail = "preinstall_cmd failed (status " + std::to_string(status) + ")";
      return report;
    }
    report.detail = "preinstall_cmd failed (status " + std::to_string(status) + "), ignored";
  }
  if (auto err = write_atomically(*target, *contents, *mode, *uid, *gid); !err.empty()) {
    run(file.error_cmd);
    return failed(err);
  }
  report.outcome = conf_file_outcome::installed;
  if (auto status = run(file.postinstall_cmd); status != 0) {
    run(file.error_cmd);
    if (!report.detail.empty())
      report.detail += "; ";
    report.detail += "postinstall_cmd failed (status " + std::to_string(status) + ")";
  }
  return report;
}

std::vector<conf_file_report>
conf_file_installer::install_all(const std::vector<conf_file>& files) {
  std::vector<conf_file_report> out;
  out.reserve(files.size());
  for (const auto& f : files)
    out.push_back(install(f));
  return out;
}

} // namespace pl::node
