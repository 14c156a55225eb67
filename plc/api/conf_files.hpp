#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/store/descriptor.hpp"

namespace pl::plc::api {

/// Describes PLCAPI's ConfFile (table `conf_files`): a file the boot server
/// installs on nodes, with its permissions and commands.
const store::class_desc& conf_file_class();

/// Registers AddConfFile, GetConfFiles, UpdateConfFile, DeleteConfFile and the
/// links AddConfFileToNode, DeleteConfFileFromNode, AddConfFileToNodeGroup and
/// DeleteConfFileFromNodeGroup.
void add_conf_file_methods(dispatcher& d);

} // namespace pl::plc::api
