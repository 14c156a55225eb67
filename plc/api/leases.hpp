#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/store/descriptor.hpp"

#include <cstdint>

#include <xmlrpc-c/base.hpp>

namespace pl::plc::api {

/// PLCAPI's PLC_RESERVATION_GRANULARITY default: leases start and end on
/// multiples of 30 minutes.
constexpr std::int64_t default_lease_granularity = 1800;

/// Describes PLCAPI 5.x's Lease (table `leases`) at time `now` (epoch
/// seconds, which decides `expired`): only leases of live reservable nodes
/// and live slices are visible, as PLCAPI's view_leases.
store::class_desc lease_class(std::int64_t now);

/// Reads a PLCAPI timestamp: an int (seconds since the epoch) or a UTC string
/// "YYYY-MM-DD HH:MM[:SS][ UTC]" or "YYYY-MM-DDTHH:MM:SS"; fault 102 otherwise.
std::int64_t parse_timestamp(const xmlrpc_c::value& v, const std::string& name);

/// Registers AddLeases, GetLeases, UpdateLeases, DeleteLeases and
/// GetLeaseGranularity. Lease bounds are rounded to `granularity` seconds
/// (t_from up, t_until down), as PLCAPI does.
void add_lease_methods(dispatcher& d, std::int64_t granularity = default_lease_granularity);

} // namespace pl::plc::api
