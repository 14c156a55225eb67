#include "vnet/bind_table.hpp"

namespace pl::vnet {

error bind_table::bind(slice_id s, protocol p, std::uint16_t port) {
  if (s == no_slice)
    return error::invalid_slice;
  const int row = row_of(static_cast<std::uint8_t>(p));
  if (row < 0)
    return error::bad_protocol;
  auto& pg = pages_[index(row, port)];
  if (!pg) {
    pg = std::make_unique<page>();
    pg->owner.fill(no_slice);
    pg->refs.fill(0);
    ++pages_in_use_;
  }
  const auto i = port & 0xFFu;
  if (pg->owner[i] == no_slice) {
    pg->owner[i] = s;
    pg->refs[i] = 1;
    ++bound_;
    return error::none;
  }
  if (pg->owner[i] != s)
    return error::port_in_use;
  ++pg->refs[i];
  return error::none;
}

error bind_table::unbind(slice_id s, protocol p, std::uint16_t port) {
  const int row = row_of(static_cast<std::uint8_t>(p));
  if (row < 0)
    return error::bad_protocol;
  page* pg = pages_[index(row, port)].get();
  const auto i = port & 0xFFu;
  if (pg == nullptr || pg->owner[i] == no_slice)
    return error::not_bound;
  if (pg->owner[i] != s)
    return error::not_owner;
  if (--pg->refs[i] == 0) {
    pg->owner[i] = no_slice;
    --bound_;
  }
  return error::none;
}

error bind_table::transfer(slice_id requester, protocol p, std::uint16_t port, slice_id new_owner) {
  if (requester != root_slice)
    return error::not_permitted;
  if (new_owner == no_slice)
    return error::invalid_slice;
  const int row = row_of(static_cast<std::uint8_t>(p));
  if (row < 0)
    return error::bad_protocol;
  page* pg = pages_[index(row, port)].get();
  const auto i = port & 0xFFu;
  if (pg == nullptr || pg->owner[i] == no_slice)
    return error::not_bound;
  pg->owner[i] = new_owner;
  return error::none;
}

} // namespace pl::vnet
