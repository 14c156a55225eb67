#pragma once

// A simulation scenario as read from its TOML file: the testbed (sites, nodes,
// persons, slices with tags) and a timeline of events (slice changes, node
// crashes and reboots, PLC outages, partitions, random churn). Plain data and
// its parser; nothing here runs anything. See sim/README.md for the format.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pl::sim {

/// Virtual time: seconds since the start of the run.
using sim_seconds = std::int64_t;

/// Bad scenario input; what() starts with "file:line: ".
class scenario_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Parses "90", "30s", "10m", "2h", "3d", "1w" (also combined: "1h30m") into
/// seconds; nullopt on anything else.
std::optional<sim_seconds> parse_duration(std::string_view text);

/// Formats seconds as the shortest of "1d2h3m4s".
std::string format_duration(sim_seconds s);

/// Which nodes an event or slice concerns, as written in the file:
/// `"all"`, a count (`10`: that many nodes drawn at random), a percentage
/// (`"10%"`), index ranges (`"0-49,60"`), a list of indices (`[1, 2]`) or a
/// named group (`"group:east"`, from [groups]). Indices are 0-based positions
/// in the scenario's node list.
struct node_selector {
  enum class kind { all, count, percent, indices, group };
  kind how = kind::all;
  std::int64_t count = 0;
  double percent = 0;
  std::vector<int> indices;
  std::string group;
  /// The text as written, for logs and errors.
  std::string text = "all";
};

struct scenario;

/// Resolves `sel` against `node_count` nodes, drawing from `rng` for counts
/// and percentages. Returns sorted, distinct indices. Throws scenario_error
/// for an index out of range or an unknown group.
std::vector<int> resolve(const node_selector& sel, const scenario& sc, std::mt19937_64& rng);

/// A slice the scenario creates (at start, or by a timeline event).
struct slice_decl {
  std::string name; ///< full PLC name, "<login_base>_<name>"
  node_selector nodes;
  std::map<std::string, std::string> tags;
  std::string instantiation = "plc-instantiated";
  /// Lifetime from its creation; 0: PLC's default (four weeks).
  sim_seconds lifetime = 0;
  int line = 0;
};

/// Slices generated at start: `count` slices named `<site>_<prefix><n>` at
/// random sites, each on about `nodes_per_slice` random nodes (uniform in
/// nodes_per_slice +- spread), or on `nodes_percent` of the nodes.
struct slice_set {
  int count = 0;
  int nodes_per_slice = 0;
  double nodes_percent = 0; ///< > 0: a share of the nodes instead of a count
  int spread = 0;
  std::string prefix = "slice";
  std::map<std::string, std::string> tags;
  sim_seconds lifetime = 0;
  int line = 0;
};

enum class event_kind {
  create_slice,            ///< slice (+ nodes, tags, lifetime)
  delete_slice,            ///< slice
  add_slice_to_nodes,      ///< slice, nodes
  delete_slice_from_nodes, ///< slice, nodes
  set_tag,                 ///< slice, tag, value (empty value: delete the tag)
  renew_slice,             ///< slice, lifetime from now
  crash,                   ///< nodes (+ duration: reboot after it)
  reboot,                  ///< nodes
  plc_outage,              ///< duration
  partition,               ///< nodes cut off from PLC for duration
  break_node,              ///< nodes start ignoring deletions (a deliberately broken node)
  redeem_ticket, ///< slice's ticket from PLC (GetSliceTicket), presented at nodes (+ broker)
  set_loans,     ///< slice lends on nodes: loans (SetLoans through the node manager)
};

/// One loan of a `set_loans` event: `amount` of `resource` lent to slice `to`.
struct loan_decl {
  std::string to;
  std::string resource;
  std::int64_t amount = 0;
};

std::string_view to_string(event_kind k);

struct timeline_event {
  sim_seconds at = 0;
  event_kind kind = event_kind::create_slice;
  std::string slice;
  node_selector nodes;
  std::map<std::string, std::string> tags;
  std::string tag;
  std::string value;
  sim_seconds duration = 0;
  sim_seconds lifetime = 0;
  /// redeem_ticket: the slice whose sliver presents the ticket at each node
  /// (empty: the ticket is presented by root).
  std::string broker;
  /// set_loans: the lender's complete list of loans (empty: it lends nothing).
  std::vector<loan_decl> loans;
  int line = 0;
};

/// Random churn: Poisson arrivals at `per_hour` between `from` and `until`.
struct churn_decl {
  enum class kind { crash, slice, tag };
  kind what = kind::crash;
  double per_hour = 0;
  sim_seconds from = 0;
  sim_seconds until = 0; ///< 0: the end of the timeline
  /// crash: how long a crashed node stays down.
  sim_seconds down = 600;
  /// slice: nodes per created slice; its life until deleted again.
  int nodes_per_slice = 5;
  sim_seconds slice_life = 3600;
  /// tag: which tag gets a new value, drawn from `values`.
  std::string tag = "cpu_share";
  std::vector<std::string> values;
  int line = 0;
};

/// A node's capacity as the node manager's admission sees it.
struct node_capacity_decl {
  double cpu_reservable = 0.8;
  std::int64_t bandwidth_kbps = 1'000'000;
  std::int64_t disk_kb = 0; ///< sliver disk pool; 0: unknown (not checked)
};

struct scenario {
  std::string name;
  std::string description;
  std::string file; ///< where it was read from, for messages
  std::uint64_t seed = 1;
  /// Length of the timeline; the run ends after duration + quiet.
  sim_seconds duration = 3600;
  /// Quiet time at the end: no events, then the final checks.
  sim_seconds quiet = 1800;
  /// How often a node manager polls GetSlivers (each node at a random phase).
  sim_seconds poll_interval = 300;
  /// Simulated network delay between a node and PLC, each way.
  double latency_ms = 50;
  /// PLC pushes slice changes to connected nodes (plc/push) besides their polls.
  bool push = false;

  int sites = 1;
  std::string site_prefix = "site";
  int nodes = 1;
  int persons_per_site = 1;
  node_capacity_decl capacity;
  std::map<std::string, node_selector> groups;

  std::vector<slice_decl> slices;
  slice_set generated;
  std::vector<timeline_event> timeline;
  std::vector<churn_decl> churn;

  /// login_base of site `i` (0-based).
  std::string login_base(int site) const;
  /// Hostname of node `i` (0-based).
  std::string hostname(int node) const;
  /// The site node `i` belongs to (nodes are dealt round-robin).
  int site_of_node(int node) const { return node % sites; }
};

/// Overrides given on the command line, applied before validation.
struct scenario_overrides {
  std::optional<int> nodes;
  std::optional<std::uint64_t> seed;
  std::optional<sim_seconds> duration;
};

/// Reads and checks a scenario; throws scenario_error ("file:line: what").
scenario parse_scenario(std::string_view text, const std::string& file_name,
                        const scenario_overrides& overrides = {});
scenario load_scenario(const std::filesystem::path& path, const scenario_overrides& overrides = {});

} // namespace pl::sim
