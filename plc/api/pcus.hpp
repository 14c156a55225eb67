#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/store/descriptor.hpp"

namespace pl::plc::api {

/// Describes PLCAPI's PCU (table `pcus`): a power control unit at a site.
const store::class_desc& pcu_class();

/// Describes PLCAPI's PCUType (table `pcu_types`, named by `model`).
const store::class_desc& pcu_type_class();

/// Describes PLCAPI's PCUProtocolType (table `pcu_protocol_type`): a port
/// and protocol of a PCU type.
const store::class_desc& pcu_protocol_type_class();

/// Registers AddPCU, GetPCUs, UpdatePCU, DeletePCU, AddPCUType, GetPCUTypes,
/// UpdatePCUType, DeletePCUType, AddPCUProtocolType, GetPCUProtocolTypes,
/// UpdatePCUProtocolType and DeletePCUProtocolType.
void add_pcu_methods(dispatcher& d);

} // namespace pl::plc::api
