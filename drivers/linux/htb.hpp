#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/records.hpp"

namespace pl::drivers::linux_net {

/// The original bwlimit's HTB shape (util-vserver-pl `bwlimit.py`, shared
/// reference 3.4), one tree per device:
///
/// ```
/// 1:      htb qdisc, default class 1:1fff
/// 1:1     rate bwmax, ceil bwmax
/// 1:10    the capped branch: rate bwmin, ceil = the node cap
///   1:(0x1000|xid)  one per slice: rate net_min_rate, ceil net_max_rate,
///                   quantum net_share x 1600, pfifo leaf (0x1000|xid):
/// 1:20    the exempt branch: rate bwmin, ceil bwmax
///   1:(0x2000|xid)  one per slice: net_i2_min_rate, net_i2_max_rate,
///                   quantum net_i2_share x 1600, pfifo leaf
/// ```
///
/// xid 0 is the root context (share 5) and xid 0xfff the default class
/// (share 1, where unclassified traffic goes); slices get xids 1..0xffe.
/// DRL's 1:100 below 1:10 is left out (no DRL here).
inline constexpr std::uint32_t main_minor = 0x1000;
inline constexpr std::uint32_t exempt_minor = 0x2000;
inline constexpr std::uint32_t root_xid = 0;
inline constexpr std::uint32_t default_xid = 0xfff;
inline constexpr std::uint32_t max_slice_xid = 0xffe;
inline constexpr std::int64_t root_share = 5;
/// bwlimit's bwmin: 1 kbit/s, the least rate HTB is given.
inline constexpr std::int64_t bwmin_kbps = 1;
/// bwlimit's bwmax for the root class: 10 Gbit/s (rates above are clamped).
inline constexpr std::int64_t bwmax_kbps = 10'000'000;

/// One HTB class as the driver builds it (rates in bit/s).
struct class_spec {
  std::uint32_t minor = 0;
  std::uint32_t parent_minor = 0; // 0: the qdisc 1:
  std::int64_t rate_bps = 0;
  std::int64_t ceil_bps = 0;
  std::int64_t quantum = 0;
  bool leaf = false; // gets a pfifo child qdisc (handle minor:)
  friend bool operator==(const class_spec&, const class_spec&) = default;
};

/// Returns the fixed classes of a tree with node cap `cap_kbps`: 1:1, 1:10,
/// 1:20 and the root and default slices.
std::vector<class_spec> tree_classes(std::int64_t cap_kbps);

/// Returns the main and exempt classes of slice `xid` for the net resources
/// in `values` (table defaults for missing keys). Rates are clamped to
/// bwmin..bwmax and a ceil below the rate is raised to the rate (HTB needs
/// ceil >= rate).
std::pair<class_spec, class_spec> slice_classes(std::uint32_t xid,
                                                const std::map<std::string, std::int64_t>& values);

/// One class read back from `tc -s -d class show` (iproute2 6.1 ignores
/// `-j` for HTB classes, so the text is parsed).
struct class_state {
  std::uint32_t minor = 0;
  std::uint32_t parent_minor = 0;
  std::int64_t rate_bps = 0;
  std::int64_t ceil_bps = 0;
  std::int64_t quantum = 0;
  std::uint32_t leaf_major = 0; // 0: no leaf qdisc
  std::int64_t bytes = 0;
  std::int64_t packets = 0;
};

/// Parses the text of `tc -s -d class show dev D` for the HTB classes of
/// major 1.
std::vector<class_state> parse_classes(std::string_view text);

/// Parses a tc rate such as `10Mbit`, `1500Kbit` or `96bit` into bit/s.
std::optional<std::int64_t> parse_rate(std::string_view text);

/// An IPv4 prefix (`a.b.c.d/len`).
struct prefix4 {
  std::uint32_t addr = 0; // host order
  int len = 32;
  std::string str() const;
};

/// Parses `a.b.c.d[/len]` (bits beyond len must be zero).
caf::expected<prefix4> parse_prefix4(std::string_view text);

/// Where the tree lives and what it treats specially.
struct htb_options {
  /// The device whose egress carries the tree (the node's uplink).
  std::string device = {};
  /// The named network namespace of `device` and of the slivers' host-side
  /// veth ends (`ip netns`); empty: this process's.
  std::string netns = {};
  /// The node's outbound cap in kbps (class 1:10's ceil).
  std::int64_t cap_kbps = 1'000'000;
  /// Destinations whose traffic uses the exempt branch (net_i2_* rates).
  std::vector<std::string> exempt = {};
  /// The slivers' addresses: slice xid gets the /30 at `subnet` + 4 x xid
  /// (host end .1, sliver .2); must be a /16 or larger.
  std::string subnet = "10.213.0.0/16";
  /// The host-side veth of slice xid is `<veth_prefix><xid>`.
  std::string veth_prefix = "plv";
};

/// A sliver's network identity, derived from its xid.
struct veth_config {
  std::string host_ifname;  // in `netns`
  std::string netns;        // named netns of the host end ("": own)
  std::string host_address; // a.b.c.d
  std::string sliver_address;
  int prefix_len = 30;
};

/// Builds, adopts, changes and removes the HTB tree on one device with `tc`
/// (every exit code checked; one `tc -batch` per change). Classification:
/// one u32 filter per slice on the device (`match ip src <sliver address>`,
/// the address of the sliver's veth) to 1:(0x1000|xid), preceded by one per
/// exempt prefix (`match ip src ... match ip dst <prefix>`) to
/// 1:(0x2000|xid). Filter priorities are 0x1000|xid (exempt) and 0x2000|xid
/// (main): one u32 instance per slice and branch, which `remove_slice`
/// deletes whole.
class htb_tree {
public:
  /// Validates `opts` (exempt prefixes, subnet); touches nothing.
  static caf::expected<htb_tree> make(htb_options opts);

  const htb_options& options() const { return opts_; }

  /// Returns whether the device's root qdisc is this tree (htb 1: with
  /// default 1fff and classes 1:1, 1:10, 1:20); an error when the device is
  /// missing or carries a different HTB tree (never replaced).
  caf::expected<bool> present() const;

  /// Builds the tree, or adopts an existing one unchanged (only 1:10's ceil
  /// follows a changed cap).
  caf::error build();

  /// Removes the root qdisc, and with it every class, leaf and filter.
  caf::error remove();

  /// Creates or changes slice `xid`'s two classes, their pfifo leaves and
  /// its filters (on the sliver address of `veth(xid)`). Complete filters
  /// are kept unless `rebuild_filters` (the exempt set or subnet changed).
  caf::error set_slice(std::uint32_t xid, const std::map<std::string, std::int64_t>& values,
                       bool rebuild_filters = false);

  /// Removes slice `xid`'s filters, classes and leaves (missing ones are
  /// fine).
  caf::error remove_slice(std::uint32_t xid);

  /// Reads the classes back from the kernel.
  caf::expected<std::vector<class_state>> classes() const;

  /// Returns the veth and addresses of slice `xid`.
  veth_config veth(std::uint32_t xid) const;

  /// Runs `tc [-n netns] args...`.
  caf::expected<std::string> tc(std::vector<std::string> args) const;

private:
  htb_tree() = default;
  caf::error tc_batch(const std::vector<std::vector<std::string>>& cmds) const;
  void class_cmds(const class_spec& c, bool replace,
                  std::vector<std::vector<std::string>>& out) const;
  caf::expected<std::map<std::uint32_t, std::size_t>> filter_counts() const;
  void filter_del_cmds(std::uint32_t xid, const std::map<std::uint32_t, std::size_t>& counts,
                       std::vector<std::vector<std::string>>& out) const;

  htb_options opts_;
  std::vector<prefix4> exempt_;
  prefix4 subnet_;
};

} // namespace pl::drivers::linux_net
