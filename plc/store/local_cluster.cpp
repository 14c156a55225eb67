#include "plc/store/local_cluster.hpp"

#include "plc/store/pg.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace pl::plc::store {

namespace {

struct account {
  uid_t uid;
  gid_t gid;
};

/// Returns the account the server runs as: `postgres` when we are root, else ourselves.
account server_account() {
  if (geteuid() != 0)
    return {geteuid(), getegid()};
  const passwd* pw = getpwnam("postgres");
  if (!pw)
    throw std::runtime_error("running as root needs a 'postgres' user to own the database "
                             "cluster (install the postgresql package: scripts/bootstrap)");
  return {pw->pw_uid, pw->pw_gid};
}

fs::path find_bin_dir(const fs::path& configured) {
  if (!configured.empty()) {
    if (!fs::exists(configured / "postgres"))
      throw std::runtime_error("no postgres binary in " + configured.string());
    return configured;
  }
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(entry.path() / "bin" / "postgres"))
      found.push_back(entry.path() / "bin");
  if (found.empty())
    throw std::runtime_error("PostgreSQL server binaries not found under /usr/lib/postgresql "
                             "(install the postgresql package: scripts/bootstrap)");
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename()) < std::stoi(b.parent_path().filename());
  });
  return found.back();
}

std::string log_tail(const fs::path& log, std::size_t max_lines = 15) {
  std::ifstream in{log};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size();
       ++i)
    out += "\n  " + lines[i];
  return out;
}

/// Starts `argv` as the server account with output appended to `log`; the
/// child gets `death_signal` when this process dies. Returns the child's pid.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& log, int death_signal) {
  account acct = server_account();
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error(std::string{"fork: "} + std::strerror(errno));
  if (pid > 0)
    return pid;
  // Child: only async-signal-safe calls from here on.
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) {
    if (fchown(fd, acct.uid, acct.gid) != 0) {
      // Not fatal: the log stays owned by us and the server writes via this fd.
    }
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
  }
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0)
    dup2(null_fd, STDIN_FILENO);
  if (geteuid() == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(acct.gid) != 0 || setuid(acct.uid) != 0)
      _exit(126);
  }
  // Set after setuid: a credential change clears the parent-death signal.
  if (death_signal != 0) {
    prctl(PR_SET_PDEATHSIG, death_signal);
    if (getppid() != parent)
      _exit(125);
  }
  execv(args[0], args.data());
  _exit(127);
}

/// Waits up to `timeout` for `pid`; returns its wait status, or -1 if still running.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return status;
    if (r < 0 && errno != EINTR)
      return 0;
    if (std::chrono::steady_clock::now() >= deadline)
      return -1;
    // Polling a child's exit has no event to wait on without SIGCHLD plumbing.
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

void chown_to_server(const fs::path& p) {
  account acct = server_account();
  if (geteuid() == 0 && chown(p.c_str(), acct.uid, acct.gid) != 0)
    throw std::runtime_error("chown " + p.string() + ": " + std::strerror(errno));
}

/// Checks that the server account can reach `dir`, before initdb fails obscurely.
void check_reachable(const fs::path& dir) {
  if (geteuid() != 0)
    return;
  account acct = server_account();
  for (fs::path p = fs::absolute(dir).parent_path(); !p.empty() && p != p.root_path();
       p = p.parent_path()) {
    struct ::stat st;
    if (::stat(p.c_str(), &st) != 0)
      continue;
    bool others_x = st.st_mode & S_IXOTH;
    bool owner_x = st.st_uid == acct.uid && (st.st_mode & S_IXUSR);
    bool group_x = st.st_gid == acct.gid && (st.st_mode & S_IXGRP);
    if (!others_x && !owner_x && !group_x)
      throw std::runtime_error("the postgres user cannot enter " + p.string() +
                               ", which holds the database cluster " + dir.string() +
                               ": choose a data directory elsewhere (e.g. under /var/lib) or "
                               "allow traversal with chmod o+x " +
                               p.string());
  }
}

} // namespace

local_cluster::local_cluster(fs::path dir, local_cluster_options opts)
    : dir_(fs::absolute(std::move(dir)))
    , opts_(std::move(opts)) {
  fs::path bin = find_bin_dir(opts_.bin_dir);
  fs::create_directories(dir_);
  fs::path log = dir_.parent_path() / (dir_.filename().string() + ".log");
  if (!fs::exists(dir_ / "PG_VERSION")) {
    check_reachable(dir_);
    fs::permissions(dir_, fs::perms::owner_all);
    chown_to_server(dir_);
    pid_t pid = spawn({(bin / "initdb").string(), "-D", dir_.string(), "-U", "postgres",
                       "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"},
                      log, SIGKILL);
    int status = wait_for(pid, std::chrono::minutes{3});
    if (status == -1) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("initdb failed for " + dir_.string() + ":" + log_tail(log));
    created_now_ = true;
  }
  // No TCP listener at all: the cluster is reached through its own directory.
  server_pid_ = spawn({(bin / "postgres").string(), "-D", dir_.string(), "-c",
                       "listen_addresses=", "-c", "unix_socket_directories=" + dir_.string(), "-c",
                       "unix_socket_permissions=0700", "-c", "fsync=on"},
                      log, SIGQUIT);
  auto deadline = std::chrono::steady_clock::now() + opts_.start_timeout;
  std::string info = conninfo();
  while (PQping(info.c_str()) != PQPING_OK) {
    int status = wait_for(server_pid_, std::chrono::milliseconds{50});
    if (status != -1) {
      server_pid_ = -1;
      throw std::runtime_error("PostgreSQL did not start in " + dir_.string() + ":" +
                               log_tail(log));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      stop();
      throw std::runtime_error("PostgreSQL did not accept connections within " +
                               std::to_string(opts_.start_timeout.count()) + " s:" + log_tail(log));
    }
  }
}

local_cluster local_cluster::scratch(local_cluster_options opts) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string{tmp && *tmp ? tmp : "/tmp"} + "/pl-pg-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data()))
    throw std::runtime_error(std::string{"mkdtemp: "} + std::strerror(errno));
  fs::path root{buf.data()};
  fs::permissions(root, fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
  opts.remove_on_stop = true;
  try {
    return local_cluster{root / "pg", std::move(opts)};
  } catch (...) {
    std::error_code ec;
    fs::remove_all(root, ec);
    throw;
  }
}

local_cluster::local_cluster(local_cluster&& other) noexcept
    : dir_(std::move(other.dir_))
    , opts_(std::move(other.opts_))
    , server_pid_(other.server_pid_)
    , created_now_(other.created_now_) {
  other.server_pid_ = -1;
  other.opts_.remove_on_stop = false;
  other.dir_.clear();
}

local_cluster::~local_cluster() {
  stop();
}

std::string local_cluster::conninfo(const std::string& dbname) const {
  return "host=" + dir_.string() + " dbname=" + dbname + " user=postgres connect_timeout=10";
}

void local_cluster::ensure_database(const std::string& dbname) {
  connection conn{conninfo()};
  auto res = conn.exec("SELECT 1 FROM pg_database WHERE datname = $1", {dbname});
  if (res.rows() > 0)
    return;
  // CREATE DATABASE takes an identifier, which cannot be a bound parameter.
  auto quoted = conn.exec("SELECT quote_ident($1)", {dbname});
  conn.exec("CREATE DATABASE " + std::string{quoted.text(0, 0)});
}

void local_cluster::stop() {
  if (server_pid_ > 0) {
    kill(server_pid_, SIGINT); // fast shutdown: roll back open transactions, checkpoint
    if (wait_for(server_pid_, std::chrono::seconds{30}) == -1) {
      kill(server_pid_, SIGQUIT);
      if (wait_for(server_pid_, std::chrono::seconds{10}) == -1) {
        kill(server_pid_, SIGKILL);
        waitpid(server_pid_, nullptr, 0);
      }
    }
    server_pid_ = -1;
  }
  if (opts_.remove_on_stop && !dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_.parent_path(), ec);
    opts_.remove_on_stop = false;
  }
}

} // namespace pl::plc::store
