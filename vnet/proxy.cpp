#include "vnet/proxy.hpp"

namespace pl::vnet {

device_result proxy_table::add(std::string_view name, prefix range) {
  if (!range.valid())
    return {error::bad_prefix};
  if (name.empty() || name == vnet_interface)
    return {error::interface_not_allowed};
  for (const auto& d : devices_)
    if (d.name == name)
      return {error::duplicate_device};
  if (devices_.size() >= 0xFFFFu)
    return {error::no_such_device};
  devices_.push_back(proxy_device{std::string{name}, range, no_slice, 0});
  return {error::none, static_cast<std::uint16_t>(devices_.size())};
}

device_result proxy_table::bind(slice_id s, std::string_view name, std::uint16_t ethertype,
                                bool promiscuous) {
  if (s == no_slice)
    return {error::invalid_slice};
  if (ethertype != eth_p_ip && ethertype != eth_p_all)
    return {error::bad_protocol};
  if (promiscuous)
    return {error::promiscuous_refused};
  if (name == vnet_interface)
    return {error::none, vnet_device};
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    auto& d = devices_[i];
    if (d.name != name)
      continue;
    if (d.holder != no_slice && d.holder != s)
      return {error::device_busy};
    d.holder = s;
    ++d.sockets;
    return {error::none, static_cast<std::uint16_t>(i + 1)};
  }
  return {error::interface_not_allowed};
}

error proxy_table::release(slice_id s, std::uint16_t device) {
  if (device == vnet_device)
    return error::none; // the vnet interface keeps no per-socket state
  if (device > devices_.size())
    return error::no_such_device;
  auto& d = devices_[device - 1];
  if (d.holder == no_slice)
    return error::not_bound;
  if (d.holder != s)
    return error::not_owner;
  if (--d.sockets == 0)
    d.holder = no_slice;
  return error::none;
}

error proxy_table::set_promiscuous(std::uint16_t device, bool on) const {
  if (device != vnet_device && device > devices_.size())
    return error::no_such_device;
  return on ? error::promiscuous_refused : error::none;
}

} // namespace pl::vnet
