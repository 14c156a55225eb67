#pragma once

// Packet socket binds and proxy devices (seed 4.4.5, 4.4.7).

#include "vnet/types.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pl::vnet {

/// Names the vnet virtual interface, the one device every slice may use.
inline constexpr std::string_view vnet_interface = "vnet";

/// Numbers the vnet interface among devices; proxy devices are 1, 2, ...
inline constexpr std::uint16_t vnet_device = 0;

/// ETH_P_IP, the IPv4 packet-socket protocol (host byte order).
inline constexpr std::uint16_t eth_p_ip = 0x0800;

/// ETH_P_ALL, accepted so tcpdump works, but capture still sees only IP.
inline constexpr std::uint16_t eth_p_all = 0x0003;

/// Describes one proxy device: a range of unused addresses on the node's subnet.
struct proxy_device {
  std::string name;
  prefix range;
  /// The slice holding the device, or `no_slice`.
  slice_id holder = no_slice;
  /// Packet sockets of `holder` bound to the device.
  std::uint32_t sockets = 0;

  friend bool operator==(const proxy_device&, const proxy_device&) = default;
};

/// Carries a device number or the reason there is none.
struct device_result {
  error err = error::none;
  std::uint16_t device = vnet_device;
};

/// Tracks proxy devices and which slice holds each (all-or-nothing access).
class proxy_table {
public:
  /// Declares a proxy device for the addresses in `range`.
  device_result add(std::string_view name, prefix range);

  /// Binds a packet socket of `s` to interface `name` with `ethertype`.
  ///
  /// Refuses any interface but vnet and the proxy devices, any protocol but
  /// ETH_P_IP and ETH_P_ALL, promiscuous mode, and a proxy device that
  /// another slice holds.
  device_result bind(slice_id s, std::string_view name, std::uint16_t ethertype, bool promiscuous);

  /// Releases one packet socket of `s` bound to `device`.
  error release(slice_id s, std::uint16_t device);

  /// Answers a request to set IFF_PROMISC on `device`: on is always refused.
  error set_promiscuous(std::uint16_t device, bool on) const;

  /// Returns the holder of `device`, or `no_slice` (also for unknown devices).
  slice_id holder(std::uint16_t device) const noexcept {
    return device == vnet_device || device > devices_.size() ? no_slice
                                                             : devices_[device - 1].holder;
  }

  /// Returns the device whose range contains `a`, or nullptr.
  const proxy_device* find(ipv4_addr a) const noexcept {
    for (const auto& d : devices_)
      if (d.range.contains(a))
        return &d;
    return nullptr;
  }

  /// Returns the device numbered `device`, or nullptr.
  const proxy_device* get(std::uint16_t device) const noexcept {
    return device == vnet_device || device > devices_.size() ? nullptr : &devices_[device - 1];
  }

  /// Returns all devices; device n is element n - 1.
  const std::vector<proxy_device>& devices() const noexcept { return devices_; }

private:
  std::vector<proxy_device> devices_;
};

} // namespace pl::vnet
