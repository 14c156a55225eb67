#pragma once

#include <cstdint>

namespace pl::drivers {

/// Multiplies PlanetLab CPU shares into cgroup v1 `cpu.shares`: 32 shares
/// (the seed's default) become 1024, the kernel's default, so a default
/// sliver weighs as much as any default cgroup. Clamped to the kernel's range
/// 2..262144.
std::int64_t cgroup_cpu_shares(std::int64_t planetlab_shares);

/// Converts cgroup v1 `cpu.shares` to cgroup v2 `cpu.weight` by the formula of
/// runc >= 1.3.2 / opencontainers/cgroups (runc PR 4785): 0 stays 0 (unset),
/// <= 2 gives 1, >= 262144 gives 10000, otherwise with l = log2(shares)
/// `ceil(10 ^ ((l*l + 125*l) / 612 - 7/34))`, a quadratic in log space through
/// (2, 1), (1024, 100) and (262144, 10000).
std::int64_t cpu_weight_from_shares(std::int64_t shares);

/// The CFS period the drivers use for hard caps (100 ms, the kernel default).
inline constexpr std::int64_t cfs_period_us = 100000;

/// Returns the CFS quota in microseconds per `cfs_period_us` for a cap of
/// `percent` of one CPU; -1 (no cap) for 0.
std::int64_t cfs_quota_us(std::int64_t percent);

/// Returns bytes for 4 KiB pages (memlimit's unit), saturating.
std::int64_t pages_to_bytes(std::int64_t pages);

/// Returns 4 KiB pages for bytes, rounded up.
std::int64_t bytes_to_pages(std::int64_t bytes);

/// Clamps an io weight (1..1000 in the resource table) to v1 `blkio.weight`'s
/// 10..1000; v2 `io.weight` takes 1..10000 and gets the value unchanged.
std::int64_t blkio_weight_v1(std::int64_t weight);

/// The HTB quantum of a slice class: share x 1600 bytes (original bwlimit).
std::int64_t htb_quantum(std::int64_t share);

} // namespace pl::drivers
