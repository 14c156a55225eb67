#pragma once

#include "vnet/types.hpp"

#include <cstdint>
#include <vector>

namespace pl::vnet {

/// Maps each (protocol, port) to the slice whose sockets have bound it (4.4.2).
///
/// A direct-indexed array (3 protocols x 65536 ports x 4 bytes = 768 KiB) so
/// the hot path reads one word; reference counts, needed only by bind and
/// unbind, live in a separate array to keep that word small.
class bind_table {
public:
  bind_table();

  /// Records one more socket of `s` bound to (`p`, `port`).
  ///
  /// Several sockets of the same slice may share a port; another slice's
  /// binding makes this fail with `port_in_use` and changes nothing.
  error bind(slice_id s, protocol p, std::uint16_t port);

  /// Releases one socket's binding; the port is free when the last one goes.
  error unbind(slice_id s, protocol p, std::uint16_t port);

  /// Hands every socket bound to (`p`, `port`) to `new_owner` (SO_SETXID).
  ///
  /// Only `root_slice` may do this (4.4.6).
  error transfer(slice_id requester, protocol p, std::uint16_t port, slice_id new_owner);

  /// Returns the slice holding (`proto`, `port`), or `no_slice`.
  ///
  /// `proto` is the IP protocol number; untrackable protocols are never bound.
  slice_id owner(std::uint8_t proto, std::uint16_t port) const noexcept {
    const int row = row_of(proto);
    return row < 0 ? no_slice : owners_[index(row, port)];
  }

  /// Returns the address of the owner word, for prefetching.
  const slice_id* slot(std::uint8_t proto, std::uint16_t port) const noexcept {
    const int row = row_of(proto);
    return row < 0 ? nullptr : &owners_[index(row, port)];
  }

  /// Returns the number of bound (protocol, port) pairs.
  std::size_t size() const noexcept { return bound_; }

  /// Returns the bytes held by the table.
  std::size_t memory_bytes() const noexcept {
    return owners_.capacity() * sizeof(slice_id) + refs_.capacity() * sizeof(std::uint32_t);
  }

private:
  static constexpr int row_of(std::uint8_t proto) noexcept {
    return proto == 1 ? 0 : proto == 6 ? 1 : proto == 17 ? 2 : -1;
  }

  static constexpr std::size_t index(int row, std::uint16_t port) noexcept {
    return (static_cast<std::size_t>(row) << 16) | port;
  }

  std::vector<slice_id> owners_;
  std::vector<std::uint32_t> refs_;
  std::size_t bound_ = 0;
};

} // namespace pl::vnet
