#pragma once

#include "vnet/types.hpp"

#include <array>
#include <cstdint>
#include <memory>

namespace pl::vnet {

/// Maps each (protocol, port) to the slice whose sockets have bound it (4.4.2).
///
/// A two-level direct-indexed table: 768 page pointers (3 protocols x 256)
/// and a 2 KiB page per 256 ports, allocated on first bind. A node uses few
/// ports, so the hot path reads a pointer and a word that stay in cache, and
/// an empty table costs 6 KiB instead of 1.5 MiB.
class bind_table {
public:
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
    const page* p = page_of(proto, port);
    return p == nullptr ? no_slice : p->owner[port & 0xFFu];
  }

  /// Returns the address of the owner word, for prefetching.
  const slice_id* slot(std::uint8_t proto, std::uint16_t port) const noexcept {
    const page* p = page_of(proto, port);
    return p == nullptr ? nullptr : &p->owner[port & 0xFFu];
  }

  /// Returns the number of bound (protocol, port) pairs.
  std::size_t size() const noexcept { return bound_; }

  /// Returns the bytes held by the table.
  std::size_t memory_bytes() const noexcept {
    return sizeof(pages_) + pages_in_use_ * sizeof(page);
  }

private:
  static constexpr int row_of(std::uint8_t proto) noexcept {
    return proto == 1 ? 0 : proto == 6 ? 1 : proto == 17 ? 2 : -1;
  }

  struct page {
    std::array<slice_id, 256> owner;
    std::array<std::uint32_t, 256> refs;
  };

  static constexpr std::size_t index(int row, std::uint16_t port) noexcept {
    return (static_cast<std::size_t>(row) << 8) | (port >> 8);
  }

  const page* page_of(std::uint8_t proto, std::uint16_t port) const noexcept {
    const int row = row_of(proto);
    return row < 0 ? nullptr : pages_[index(row, port)].get();
  }

  std::array<std::unique_ptr<page>, 3 * 256> pages_;
  std::size_t pages_in_use_ = 0;
  std::size_t bound_ = 0;
};

} // namespace pl::vnet
