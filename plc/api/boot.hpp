#pragma once

// The methods nodes call while booting (BootManager, NodeManager, the run
// level agent) and the node configuration file behind their identity.

#include "plc/api/dispatcher.hpp"

#include <string>

namespace pl::plc::api {

/// PLCAPI's PLC_FLAVOUR_* settings: what GetNodeFlavour answers for a node
/// without the arch, fcdistro, pldistro or virt tags.
struct flavour_defaults {
  std::string node_arch = "x86_64";        ///< PLC_FLAVOUR_NODE_ARCH
  std::string node_fcdistro = "f18";       ///< PLC_FLAVOUR_NODE_FCDISTRO
  std::string node_pldistro = "planetlab"; ///< PLC_FLAVOUR_NODE_PLDISTRO
  /// PLC_FLAVOUR_VIRT_MAP: "fcdistro,fcdistro:virt; ...; default:virt".
  std::string virt_map = " f8,f12,f14,centos5,centos6:vs; default:lxc ";
};

/// Returns the virtualisation ("vs" or "lxc") `virt_map` gives `fcdistro`, as
/// PLCAPI reads PLC_FLAVOUR_VIRT_MAP: entries separated by ";", each a
/// comma-separated list of fcdistros, ":" and a virt; entries naming another
/// virt are skipped; the fcdistro's entry wins over "default"; "vs" when
/// neither is there or the map does not parse.
std::string virt_from_map(const std::string& virt_map, const std::string& fcdistro);

/// Returns a new node key: base64 of 32 random bytes without the "=" padding
/// (BootManager cannot handle "=").
std::string new_node_key();

/// Registers BootCheckAuthentication, BootGetNodeDetails, BootUpdateNode,
/// BootNotifyOwners, GenerateNodeConfFile, GetNodeFlavour and ReportRunlevel.
void add_boot_methods(dispatcher& d, flavour_defaults flavour = {});

} // namespace pl::plc::api
