#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "drivers/linux/htb.hpp"
#include "drivers/mechanism_driver.hpp"
#include "drivers/state_store.hpp"

namespace pl::drivers::linux_net {

/// Drives the `net` resources with the original bwlimit's HTB tree (see
/// `htb_tree`): per slice `net_min_rate` / `net_max_rate` / `net_share` on
/// its class below 1:10 and the `net_i2_*` twins on its class below 1:20,
/// in kbps. The `net_*_kbyte` rows (bwmon's daily caps) are recorded only.
///
/// Each sliver gets an xid (1..0xffe, the lowest free, recorded in
/// `<state>/slivers/<sliver>`) that names its classes, its veth
/// (`<veth_prefix><xid>`) and its address (see `htb_options::subnet`). The
/// tree's own record, `<state>/tree`, lets a restarted driver (and resman
/// without options) find the device and adopt the tree unchanged.
class net_driver : public mechanism_driver {
public:
  net_driver(htb_tree tree, std::filesystem::path state_dir);

  mechanism kind() const override { return mechanism::net; }

  /// Builds or adopts the tree and records it.
  caf::error init() override;

  caf::error apply(const allocation& a) override;
  caf::error remove(const std::string& sliver) override;
  caf::expected<allocation> read(const std::string& sliver) const override;
  std::vector<std::string> slivers() const override;

  /// Returns `errc::unsupported`: rates have no use.
  caf::expected<std::int64_t> usage(const std::string& sliver,
                                    std::string_view resource) const override;

  /// Removes every slice's classes and filters, the tree and all records.
  caf::error destroy();

  /// Returns, per sliver with classes, the bytes sent so far through its
  /// ordinary and its exempt class (tc's cumulative counters; they restart
  /// at 0 when a class is recreated). One `tc -s class show`; reads only tc
  /// and the records on disk, so any thread may call it (the node manager's
  /// byte caps do, beside the driver actor).
  caf::expected<std::map<std::string, std::pair<std::int64_t, std::int64_t>>>
  transmit_counters() const;

  /// Returns the sliver's xid, when it has one.
  std::optional<std::uint32_t> xid(const std::string& sliver) const;

  /// Returns the sliver's veth and addresses, when it has an xid.
  std::optional<veth_config> veth(const std::string& sliver) const;

  const htb_tree& tree() const { return tree_; }

  /// Returns the options recorded by `init` under `state_dir`, if any.
  static std::optional<htb_options> recorded(const std::filesystem::path& state_dir);

private:
  caf::error record_tree() const;

  htb_tree tree_;
  std::filesystem::path dir_;
  state_store state_;
  bool ready_ = false;
};

} // namespace pl::drivers::linux_net
