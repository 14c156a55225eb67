#include "sim/plc_link.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xmlrpc-c/girerr.hpp>
#include <xmlrpc-c/xml.hpp>

#include "plc/api/dispatcher.hpp"
#include "plc/api/node_auth.hpp"
#include "plc/api/nodes.hpp"
#include "plc/api/password.hpp"
#include "plc/api/persons.hpp"
#include "plc/api/sessions.hpp"
#include "plc/api/sites.hpp"
#include "plc/api/slice_tags.hpp"
#include "plc/api/slices.hpp"
#include "plc/api/slivers.hpp"
#include "plc/api/tags.hpp"
#include "plc/api/tickets.hpp"
#include "plc/store/local_cluster.hpp"
#include "plc/store/migrations.hpp"
#include "plc/store/persons.hpp"
#include "plc/store/pool.hpp"

namespace pl::sim {

namespace fs = std::filesystem;
using xv = xmlrpc_c::value;

xmlrpc_c::value plc_link::admin_auth() const {
  std::map<std::string, xv> auth;
  if (!session_.empty()) {
    auth["AuthMethod"] = xmlrpc_c::value_string("session");
    auth["session"] = xmlrpc_c::value_string(session_);
  } else {
    auth["AuthMethod"] = xmlrpc_c::value_string("anonymous");
  }
  return xmlrpc_c::value_struct(auth);
}

void plc_link::login(const std::string& email, const std::string& password) {
  std::map<std::string, xv> auth{{"AuthMethod", xmlrpc_c::value_string("password")},
                                 {"Username", xmlrpc_c::value_string(email)},
                                 {"AuthString", xmlrpc_c::value_string(password)}};
  auto r = call("GetSession", {xmlrpc_c::value_struct(auth)});
  if (!r.ok())
    throw std::runtime_error(
        "PLC refused the admin login " + email + ": " +
        (r.is_fault() ? std::to_string(r.fault_code) + " " + r.fault_string : r.error));
  admin_email_ = email;
  admin_password_ = password;
  session_ = xmlrpc_c::value_string(r.value).cvalue();
}

bool plc_link::relogin() {
  try {
    login(admin_email_, admin_password_);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

xmlrpc_c::value node_auth(std::int32_t node_id, const std::string& key,
                          const std::vector<xmlrpc_c::value>& args) {
  auto digest = plc::api::hmac_sha1_hex(key, plc::api::hmac_message(args));
  std::map<std::string, xv> auth{{"AuthMethod", xmlrpc_c::value_string("hmac")},
                                 {"node_id", xmlrpc_c::value_int(node_id)},
                                 {"value", xmlrpc_c::value_string(digest)}};
  return xmlrpc_c::value_struct(auth);
}

namespace {

// ---------------------------------------------------------------------------
// Embedded: the dispatcher in this process.

class embedded_plc final : public plc_link {
public:
  explicit embedded_plc(const pl::clock& clock)
      : cluster_{plc::store::local_cluster::scratch()}
      , clock_{clock} {
    cluster_.ensure_database("planetlab");
    pool_ = std::make_unique<plc::store::connection_pool>(cluster_.conninfo("planetlab"), 4);
    std::string password = "sim-admin-password";
    {
      auto conn = pool_->acquire();
      plc::store::migrate(*conn, clock_);
      plc::api::seed_slice_tag_types(*conn);
      plc::store::add_person(
          *conn,
          {"admin@sim", "PLC", "Administrator", plc::api::hash_password(password), true, {10}},
          clock_);
    }
    plc::api::services svc;
    svc.db = pool_.get();
    svc.clock = &clock_;
    api_ = std::make_unique<plc::api::dispatcher>(svc);
    plc::api::add_auth_methods(*api_);
    plc::api::add_session_methods(*api_);
    plc::api::add_site_methods(*api_);
    plc::api::add_person_methods(*api_);
    plc::api::add_tag_methods(*api_);
    plc::api::add_node_methods(*api_);
    plc::api::add_slice_methods(*api_);
    plc::api::add_slice_tag_methods(*api_);
    plc::api::add_sliver_methods(*api_);
    // Slice tickets, signed with a key of this run (brokers redeem them at
    // the virtual nodes, which trust its public half).
    auto key = pl::signing_key::generate();
    if (!key)
      throw std::runtime_error("cannot make the embedded PLC's ticket key: " + key.error());
    tickets_ =
        std::make_unique<plc::api::key_ticket_authority>(*key, clock_, std::chrono::hours{24 * 7});
    plc::api::add_ticket_methods(*api_, tickets_.get());
    plc::api::dispatcher::set_xml_size_limit(256u << 20);
    login("admin@sim", password);
  }

  rpc_result call(const std::string& method, const std::vector<xv>& params) override {
    try {
      xmlrpc_c::paramList list;
      for (const auto& p : params)
        list.add(p);
      std::string request;
      xmlrpc_c::xml::generateCall(method, list, xmlrpc_dialect_i8, &request);
      auto response = api_->handle(request, "127.0.0.1");
      xmlrpc_c::rpcOutcome outcome;
      xmlrpc_c::xml::parseResponse(response, &outcome);
      if (outcome.succeeded())
        return rpc_result::success(outcome.getResult());
      auto f = outcome.getFault();
      return rpc_result::fault(static_cast<int>(f.getCode()), f.getDescription());
    } catch (const std::exception& e) {
      return rpc_result::failure(std::string{"embedded PLC: "} + e.what());
    }
  }

  std::string describe() const override {
    return "embedded PLC (plc/api on a fresh PostgreSQL cluster, virtual clock)";
  }

  std::optional<verify_key> ticket_key() const override { return tickets_->public_key(); }

  plc::store::connection_pool* database() override { return pool_.get(); }

private:
  plc::store::local_cluster cluster_;
  const pl::clock& clock_;
  std::unique_ptr<plc::store::connection_pool> pool_;
  std::unique_ptr<plc::api::key_ticket_authority> tickets_;
  std::unique_ptr<plc::api::dispatcher> api_;
};

// ---------------------------------------------------------------------------
// Remote: XML-RPC to a running PLC.

class remote_plc final : public plc_link {
public:
  remote_plc(const std::string& url, const std::string& ca_file)
      : url_{url}
      , client_{client_options{.url = url, .ca_file = ca_file, .verify = !ca_file.empty()}} {}

  rpc_result call(const std::string& method, const std::vector<xv>& params) override {
    return client_.call(method, params);
  }

  std::string describe() const override { return "PLC at " + url_; }

private:
  std::string url_;
  xmlrpc_client client_;
};

std::string read_all(const fs::path& p) {
  std::ifstream in{p};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

std::unique_ptr<plc_link> make_embedded_plc(const pl::clock& clock) {
  return std::make_unique<embedded_plc>(clock);
}

std::unique_ptr<plc_link> make_remote_plc(const std::string& url, const std::string& ca_file,
                                          const std::string& email, const std::string& password) {
  auto link = std::make_unique<remote_plc>(url, ca_file);
  link->login(email, password);
  return link;
}

plcd_process::plcd_process(const fs::path& plcd) {
  auto pattern = (fs::temp_directory_path() / "plsim-plcd-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("mkdtemp: " + std::string{std::strerror(errno)});
  dir_ = pattern;
  // plcd --dev runs PostgreSQL as `postgres` when started as root: it must get in.
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  auto out_path = dir_ / "plcd.out";
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0)
    throw std::runtime_error("cannot create " + out_path.string());
  std::vector<std::string> argv{
      plcd.string(), "--dev",       "--data-dir", (dir_ / "data").string(), "--address",
      "127.0.0.1",   "--port",      "0",          "--plain-http",           "--log-level",
      "warn",        "--push-port", "0"};
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(out);
    throw std::runtime_error("fork: " + std::string{std::strerror(errno)});
  }
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent)
      ::_exit(127);
    ::setpgid(0, 0);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execv(args[0], args.data());
    ::dprintf(STDERR_FILENO, "cannot execute %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(out);
  static const std::regex password_re{R"(password: (\S+))"};
  static const std::regex url_re{R"(listening on (\S+))"};
  static const std::regex push_re{R"(push endpoint (\S+):(\d+))"};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{180};
  while (url_.empty()) {
    auto text = read_all(out_path);
    std::smatch m;
    if (std::regex_search(text, m, password_re))
      password_ = m[1];
    if (std::regex_search(text, m, url_re))
      url_ = m[1];
    if (std::regex_search(text, m, push_re)) {
      push_host_ = m[1];
      push_port_ = static_cast<std::uint16_t>(std::stoi(m[2]));
    }
    if (!url_.empty())
      break;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("plcd exited before listening:\n" + text);
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("plcd did not listen within 180 s:\n" + text);
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  if (password_.empty())
    throw std::runtime_error("plcd --dev printed no admin password");
}

plcd_process::~plcd_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 600; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

} // namespace pl::sim
