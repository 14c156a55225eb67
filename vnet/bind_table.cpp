#include "vnet/bind_table.hpp"

namespace pl::vnet {

namespace {

constexpr std::size_t slots = 3u << 16;

} // namespace

bind_table::bind_table() : owners_(slots, no_slice), refs_(slots, 0) {
}

error bind_table::bind(slice_id s, protocol p, std::uint16_t port) {
  if (s == no_slice)
    return error::invalid_slice;
  const int row = row_of(static_cast<std::uint8_t>(p));
  if (row < 0)
    return error::bad_protocol;
  const auto i = index(row, port);
  if (owners_[i] == no_slice) {
    owners_[i] = s;
    refs_[i] = 1;
    ++bound_;
    return error::none;
  }
  if (owners_[i] != s)
    return error::port_in_use;
  ++refs_[i];
  return error::none;
}

error bind_table::unbind(slice_id s, protocol p, std::uint16_t port) {
  const int row = row_of(static_cast<std::uint8_t>(p));
  if (row < 0)
    return error::bad_protocol;
  const auto i = index(row, port);
  if (owners_[i] == no_slice)
    return error::not_bound;
  if (owners_[i] != s)
    return error::not_owner;
  if (--refs_[i] == 0) {
    owners_[i] = no_slice;
    --bound_;
  }
  return error::none;
}

error bind_table::transfer(slice_id requester, protocol p, std::uint16_t port,
                           slice_id new_owner) {
  if (requester != root_slice)
    return error::not_permitted;
  if (new_owner == no_slice)
    return error::invalid_slice;
  const int row = row_of(static_cast<std::uint8_t>(p));
  if (row < 0)
    return error::bad_protocol;
  const auto i = index(row, port);
  if (owners_[i] == no_slice)
    return error::not_bound;
  owners_[i] = new_owner;
  return error::none;
}

} // namespace pl::vnet
