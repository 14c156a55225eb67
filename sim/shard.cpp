#include "sim/shard.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/clock.hpp"
#include "actors/errors.hpp"
#include "actors/runtime_config.hpp"
#include "sim/node_host.hpp"

namespace pl::sim {

namespace fs = std::filesystem;

void configure_plsim_runtime(caf::actor_system_config& cfg, bool middleman,
                             std::size_t max_threads) {
  pl::configure_runtime(cfg, {.middleman = middleman, .max_threads = max_threads});
  cfg.add_message_types<caf::id_block::plsim>();
}

namespace {

fs::path make_temp_dir(const std::string& prefix) {
  auto pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("mkdtemp: " + std::string{std::strerror(errno)});
  return pattern;
}

std::string this_host() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0)
    return "?";
  return buf;
}

// -- the shard actor ---------------------------------------------------------

using shard_impl_actor = shard_actor::extend<caf::reacts_to<caf::tick_atom>>;

struct shard_state {
  static inline const char* name = "sim_shard";

  fs::path state_dir;
  const pl::clock* clock = nullptr;
  shard_config cfg;
  std::optional<node_host> host;
  std::map<std::int32_t, node_view> views;
  /// Bumped by every command to a node: an observation begun before it is
  /// stale when it arrives.
  std::map<std::int32_t, std::uint64_t> generation;
  std::set<std::int32_t> changed;
  /// Each node manager's status at its last full observation: while it
  /// answers the same (no delivery, action or refusal since), its slivers
  /// are not asked for again.
  std::map<std::int32_t, node_status> last_status;
  /// Whoever started the nodes: when it goes away, so do they and the shard.
  caf::actor_addr coordinator;
  bool observing = false;
  bool ticking = false;

  ~shard_state() {
    host.reset();
    if (!state_dir.empty()) {
      std::error_code ec;
      fs::remove_all(state_dir, ec);
    }
  }
};

using self_ptr = shard_impl_actor::stateful_pointer<shard_state>;

bool in_place(sliver_phase p) {
  return p == sliver_phase::created || p == sliver_phase::running || p == sliver_phase::stopped;
}

void record(self_ptr self, std::int32_t index, std::uint64_t generation, const node_status& status,
            const std::vector<sliver_spec>& specs) {
  auto& st = self->state;
  if (st.generation[index] != generation)
    return;
  node_view v;
  v.index = index;
  v.up = true;
  std::map<std::string, sliver_phase> phases;
  for (const auto& s : status.slivers)
    phases[s.name] = s.phase;
  for (const auto& spec : specs)
    if (auto p = phases.find(spec.name); p != phases.end() && in_place(p->second))
      v.slivers.push_back(spec);
  v.refusals = status.refusals;
  st.last_status[index] = status;
  auto& old = st.views[index];
  v.observed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(st.clock->now().time_since_epoch())
          .count();
  if (old.up != v.up || old.slivers != v.slivers || old.refusals != v.refusals) {
    old = std::move(v);
    st.changed.insert(index);
  }
}

/// Asks every running node manager for its status and slivers; `done` runs
/// once every answer (or error) is in.
void observe(self_ptr self, std::function<void()> done) {
  auto& st = self->state;
  if (!st.host) {
    done();
    return;
  }
  auto running = st.host->running();
  if (running.empty()) {
    done();
    return;
  }
  auto left = std::make_shared<std::size_t>(running.size());
  auto finish = [left, done = std::move(done)] {
    if (--*left == 0)
      done();
  };
  const auto timeout = std::chrono::seconds(10);
  for (const auto& [index, nm] : running) {
    auto gen = st.generation[index];
    self->request(nm, timeout, status_atom_v)
        .then(
            [self, finish, index, gen, nm, timeout](node_status& status) {
              auto& st = self->state;
              if (auto last = st.last_status.find(index);
                  last != st.last_status.end() && last->second == status) {
                finish();
                return;
              }
              self->request(nm, timeout, caf::get_atom_v)
                  .then(
                      [self, finish, index, gen, status](std::vector<sliver_spec>& specs) {
                        record(self, index, gen, status, specs);
                        finish();
                      },
                      [finish](caf::error&) { finish(); });
            },
            [finish](caf::error&) { finish(); });
  }
}

std::vector<node_view> all_views(const shard_state& st) {
  std::vector<node_view> out;
  for (const auto& [index, v] : st.views)
    out.push_back(v);
  return out;
}

shard_impl_actor::behavior_type shard(self_ptr self, fs::path state_dir, const pl::clock* clock) {
  self->state.state_dir = std::move(state_dir);
  self->state.clock = clock;
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.coordinator && dm.source == st.coordinator) {
      spdlog::warn("sim.shard event=coordinator_lost effect=\"nodes stopped, shard quits\"");
      st.host.reset();
      self->quit();
      return;
    }
    if (st.host)
      st.host->stopped(dm.source);
  });
  return {
      [self](start_atom, shard_config& cfg,
             std::vector<shard_node>& nodes) -> caf::result<shard_info> {
        auto& st = self->state;
        if (st.host && !(cfg == st.cfg))
          return make_error(errc::invalid_argument,
                            "this shard was started with another configuration");
        std::set<std::int32_t> seen;
        for (const auto& n : nodes)
          if ((st.host && st.host->hosts(n.index)) || !seen.insert(n.index).second)
            return make_error(errc::invalid_argument,
                              "node " + std::to_string(n.index) + " is hosted here already");
        if (cfg.poll_interval_ms <= 0 || cfg.observe_interval_ms <= 0 || cfg.maintenance_ms <= 0)
          return make_error(errc::invalid_argument,
                            "poll, observe and maintenance intervals must be positive");
        if (!st.host) {
          st.cfg = cfg;
          if (auto sender = self->current_sender()) {
            st.coordinator = caf::actor_cast<caf::actor_addr>(sender);
            self->monitor(st.coordinator);
          }
          st.host.emplace(self->home_system(), cfg, st.state_dir, *st.clock);
        }
        for (const auto& n : nodes) {
          if (auto err = st.host->add(n))
            return err;
          st.views[n.index] = node_view{n.index, true, {}, {}, 0};
          st.changed.insert(n.index);
        }
        if (!st.ticking) {
          st.ticking = true;
          self->send(self, caf::tick_atom_v);
        }
        spdlog::info("sim.shard event=started nodes={}", st.host->size());
        return shard_info{static_cast<std::int32_t>(::getpid()), this_host(),
                          static_cast<std::int32_t>(st.host->size())};
      },
      [self](apply_atom, const shard_command& cmd) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        for (auto i : cmd.nodes)
          if (!st.host || !st.host->hosts(i))
            return make_error(errc::invalid_argument,
                              "node " + std::to_string(i) + " is not hosted by this shard");
        for (auto i : cmd.nodes) {
          ++st.generation[i];
          st.last_status.erase(i);
          if (auto addr = st.host->apply(cmd.op, i))
            self->monitor(*addr);
          auto& v = st.views[i];
          bool up = st.host->up(i);
          if (v.up != up) {
            v.up = up;
            st.changed.insert(i);
          }
        }
        return caf::ok_atom_v;
      },
      [self](caf::get_atom) {
        auto& st = self->state;
        std::vector<node_view> out;
        for (auto i : st.changed)
          out.push_back(st.views[i]);
        st.changed.clear();
        return out;
      },
      [self](status_atom) -> caf::result<std::vector<node_view>> {
        auto rp = self->make_response_promise<std::vector<node_view>>();
        observe(self, [self, rp]() mutable {
          self->state.changed.clear();
          rp.deliver(all_views(self->state));
        });
        return rp;
      },
      [self](stop_atom) {
        self->state.host.reset();
        self->quit();
        return caf::ok_atom_v;
      },
      [self](caf::tick_atom) {
        auto& st = self->state;
        self->delayed_send(self, std::chrono::milliseconds(st.cfg.observe_interval_ms),
                           caf::tick_atom_v);
        if (st.observing)
          return;
        st.observing = true;
        observe(self, [self] { self->state.observing = false; });
      },
  };
}

} // namespace

shard_actor spawn_shard(caf::actor_system& sys, fs::path state_dir, const pl::clock& clock) {
  return caf::actor_cast<shard_actor>(sys.spawn(shard, std::move(state_dir), &clock));
}

std::pair<std::string, std::uint16_t> split_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw std::invalid_argument("expected host:port, got \"" + text + "\"");
  auto host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  long port = -1;
  try {
    std::size_t used = 0;
    port = std::stol(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1)
      port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 1 || port > 65535)
    throw std::invalid_argument("the port in \"" + text + "\" must be 1..65535");
  return {host, static_cast<std::uint16_t>(port)};
}

// -- the coordinator's fleet -------------------------------------------------

struct fleet::child {
  pid_t pid = -1;
  ~child() {
    if (pid <= 0)
      return;
    int status = 0;
    // The shard quits after `stop`; give it a moment, then insist.
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid, &status, WNOHANG) == pid)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (i == 40)
        ::kill(pid, SIGTERM);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
};

fleet::fleet(caf::actor_system& sys, std::chrono::milliseconds timeout)
    : sys_{sys}
    , timeout_{timeout}
    , self_{std::make_unique<caf::scoped_actor>(sys)} {}

fleet::~fleet() {
  auto& self = *self_;
  for (const auto& s : shards_)
    self->request(s, std::chrono::seconds(10), stop_atom_v)
        .receive([](caf::ok_atom) {},
                 [&](caf::error& err) {
                   spdlog::warn("sim.fleet event=stop_failed error=\"{}\"", caf::to_string(err));
                 });
  children_.clear();
  self_.reset();
}

void fleet::add_local(const pl::clock& clock) {
  shards_.push_back(spawn_shard(sys_, make_temp_dir("plsim-shard"), clock));
  addresses_.push_back("in-process");
}

void fleet::spawn_process(const fs::path& plsim) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe: " + std::string{std::strerror(errno)});
  std::vector<std::string> argv{plsim.string(), "shard", "--listen", "127.0.0.1", "--port", "0"};
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error("fork: " + std::string{std::strerror(errno)});
  }
  if (pid == 0) {
    // The shard ends with its coordinator, whatever happens to it.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent)
      ::_exit(127);
    ::dup2(fds[1], STDOUT_FILENO);
    ::execv(args[0], args.data());
    ::dprintf(STDERR_FILENO, "cannot execute %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fds[1]);
  auto c = std::make_unique<child>();
  c->pid = pid;
  static const std::regex listening{R"(listening on (\S+):(\d+))"};
  std::string text;
  std::smatch m;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::regex_search(text, m, listening)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    pollfd p{fds[0], POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      ::close(fds[0]);
      throw std::runtime_error("plsim shard did not say where it listens within 60 s: " + text);
    }
    char buf[512];
    auto n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0) {
      ::close(fds[0]);
      throw std::runtime_error("plsim shard exited before listening: " + text);
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  // The shard's later output goes nowhere; reading end closed, it gets
  // EPIPE (ignored) rather than blocking.
  ::close(fds[0]);
  auto host = m[1].str();
  auto port = static_cast<std::uint16_t>(std::stoi(m[2].str()));
  children_.push_back(std::move(c));
  join(host, port);
}

void fleet::join(const std::string& host, std::uint16_t port) {
  auto s = sys_.middleman().remote_actor<shard_actor>(host, port);
  if (!s)
    throw std::runtime_error("cannot reach the shard at " + host + ":" + std::to_string(port) +
                             ": " + sys_.render(s.error()));
  shards_.push_back(*s);
  addresses_.push_back(host + ":" + std::to_string(port));
}

void fleet::start(const shard_config& cfg, const std::vector<shard_node>& nodes) {
  if (shards_.empty())
    throw std::runtime_error("no shards to host the nodes");
  auto k = shards_.size();
  std::int32_t max_index = 0;
  for (const auto& n : nodes)
    max_index = std::max(max_index, n.index);
  owner_.assign(static_cast<std::size_t>(max_index) + 1, k);
  infos_.clear();
  first_.clear();
  auto& self = *self_;
  std::size_t begin = 0;
  for (std::size_t s = 0; s < k; ++s) {
    // Contiguous ranges, the first ones one node longer when it does not
    // divide evenly.
    auto count = nodes.size() / k + (s < nodes.size() % k ? 1 : 0);
    std::vector<shard_node> part(nodes.begin() + static_cast<std::ptrdiff_t>(begin),
                                 nodes.begin() + static_cast<std::ptrdiff_t>(begin + count));
    for (const auto& n : part)
      owner_[static_cast<std::size_t>(n.index)] = s;
    first_.push_back(part.empty() ? -1 : part.front().index);
    begin += count;
    caf::error failed;
    self->request(shards_[s], timeout_, start_atom_v, cfg, std::move(part))
        .receive([&](shard_info& info) { infos_.push_back(std::move(info)); },
                 [&](caf::error& err) { failed = std::move(err); });
    if (failed)
      throw std::runtime_error("shard " + addresses_[s] +
                               " refused its nodes: " + sys_.render(failed));
  }
}

std::vector<std::string> fleet::describe() const {
  std::vector<std::string> out;
  for (std::size_t s = 0; s < infos_.size(); ++s) {
    const auto& i = infos_[s];
    auto range = i.nodes == 0 ? std::string{"no nodes"}
                              : "nodes " + std::to_string(first_[s]) + "-" +
                                    std::to_string(first_[s] + i.nodes - 1);
    out.push_back(range + ": pid " + std::to_string(i.pid) + " on " + i.host + " at " +
                  addresses_[s]);
  }
  return out;
}

std::vector<std::string> fleet::apply(shard_op op, const std::vector<std::int32_t>& indexes) {
  std::map<std::size_t, shard_command> per;
  std::vector<std::string> errors;
  for (auto i : indexes) {
    if (i < 0 || static_cast<std::size_t>(i) >= owner_.size() ||
        owner_[static_cast<std::size_t>(i)] >= shards_.size()) {
      errors.push_back("node " + std::to_string(i) + " is on no shard");
      continue;
    }
    auto& c = per[owner_[static_cast<std::size_t>(i)]];
    c.op = op;
    c.nodes.push_back(i);
  }
  // Bad input changes nothing: no shard hears of a command naming a node
  // that is on none.
  if (!errors.empty())
    return errors;
  auto& self = *self_;
  for (auto& [s, cmd] : per)
    self->request(shards_[s], timeout_, apply_atom_v, cmd)
        .receive([](caf::ok_atom) {},
                 [&, s = s](caf::error& err) {
                   errors.push_back("shard " + addresses_[s] + ": " + to_string(op) + ": " +
                                    sys_.render(err));
                 });
  return errors;
}

std::vector<node_view> fleet::changes() {
  std::vector<node_view> out;
  auto& self = *self_;
  for (std::size_t s = 0; s < shards_.size(); ++s)
    self->request(shards_[s], timeout_, caf::get_atom_v)
        .receive(
            [&](std::vector<node_view>& views) {
              out.insert(out.end(), std::make_move_iterator(views.begin()),
                         std::make_move_iterator(views.end()));
            },
            [&](caf::error& err) {
              spdlog::warn("sim.fleet event=changes_failed shard={} error=\"{}\"", addresses_[s],
                           sys_.render(err));
            });
  return out;
}

std::vector<node_view> fleet::snapshot() {
  std::vector<node_view> out;
  auto& self = *self_;
  for (std::size_t s = 0; s < shards_.size(); ++s) {
    caf::error failed;
    self->request(shards_[s], timeout_, status_atom_v)
        .receive(
            [&](std::vector<node_view>& views) {
              out.insert(out.end(), std::make_move_iterator(views.begin()),
                         std::make_move_iterator(views.end()));
            },
            [&](caf::error& err) { failed = std::move(err); });
    if (failed)
      throw std::runtime_error("shard " + addresses_[s] +
                               " gave no final state: " + sys_.render(failed));
  }
  return out;
}

// -- plsim shard ---------------------------------------------------------------

int run_shard_process(const std::string& address, std::uint16_t port, std::size_t threads) {
  // The stop signals go to the waiting thread below, not to CAF's threads.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config cfg;
  configure_plsim_runtime(cfg, true, threads);
  caf::actor_system sys{cfg};
  pl::system_clock_source clock;
  auto dir = make_temp_dir("plsim-shard");
  auto s = spawn_shard(sys, dir, clock);
  auto bound = sys.middleman().publish(s, port, address.c_str(), true);
  if (!bound) {
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    throw std::runtime_error("cannot publish the shard on " + address + ":" + std::to_string(port) +
                             ": " + sys.render(bound.error()));
  }
  std::cout << "plsim shard: listening on " << address << ":" << *bound << std::endl;
  if (address.rfind("127.", 0) != 0 && address != "localhost" && address != "::1")
    std::cerr << "plsim shard: warning: anyone who reaches " << address << ":" << *bound
              << " can command this shard (no authentication); use a trusted network\n";
  std::atomic<bool> done{false};
  std::thread waiter{[&] {
    timespec tick{0, 200'000'000};
    while (!done) {
      if (::sigtimedwait(&set, nullptr, &tick) > 0) {
        caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
        return;
      }
    }
  }};
  {
    caf::scoped_actor self{sys};
    self->monitor(s);
    self->receive([](caf::down_msg&) {});
  }
  done = true;
  waiter.join();
  return 0;
}

} // namespace pl::sim
