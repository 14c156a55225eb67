#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/api/pl3_ticket.hpp"

#include <memory>

namespace pl::plc::api {

/// Registers the PlanetLab 3 slice API (PLCAPI's deprecated compatibility
/// methods, seed 2.1) mapped onto the slice methods already registered in
/// `d` (call it after add_slice_methods, add_slice_tag_methods,
/// add_person_methods and add_node_methods; throws std::logic_error
/// otherwise): SliceCreate, SliceDelete, SliceInfo, SliceExtendedInfo,
/// SliceListNames, SliceListUserSlices, SliceNodesAdd, SliceNodesDel,
/// SliceNodesList, SliceRenew, SliceUpdate, SliceUserAdd, SliceUserDel,
/// SliceUsersList, and SliceGetTicket and SliceTicketGet, which return the
/// PL3 XML ticket of a delegated slice signed by `ticket_key` (nullptr: no
/// key configured, the ticket methods fault 111 as the original did).
void add_pl3_slice_methods(dispatcher& d, std::shared_ptr<const pl3_ticket_signer> ticket_key);

} // namespace pl::plc::api
