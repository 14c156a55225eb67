# Every external dependency, found once and exposed as an imported target.
# All of them come from Debian 12 packages (scripts/bootstrap installs them).

find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(Boost 1.74 REQUIRED)  # header-only: Asio and Beast
find_package(spdlog REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
# XML-DSig for PlanetLab 3.0 slice tickets (libxmlsec1-dev, libxmlsec1-openssl);
# its pkg-config flags select the OpenSSL engine and must reach every user.
pkg_check_modules(XMLSEC REQUIRED IMPORTED_TARGET xmlsec1-openssl)

# Boost.Asio with Beast: keep deprecated interfaces out and share one error category.
add_library(pl_boost INTERFACE)
target_link_libraries(pl_boost INTERFACE Boost::headers Threads::Threads OpenSSL::SSL OpenSSL::Crypto)
target_compile_definitions(pl_boost INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)

# CAF 0.17.6: Debian ships neither a CMake package nor a pkg-config file.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" caf_version_line REGEX "^#define CAF_VERSION [0-9]+")
string(REGEX REPLACE ".* ([0-9]+)$" "\\1" CAF_VERSION_NUMBER "${caf_version_line}")
if(NOT CAF_VERSION_NUMBER EQUAL 1706)
  message(FATAL_ERROR "CAF 0.17.6 required (libcaf-dev), found CAF_VERSION ${CAF_VERSION_NUMBER}")
endif()
foreach(part core io openssl)
  find_library(CAF_${part}_LIBRARY caf_${part} REQUIRED)
  add_library(CAF::${part} SHARED IMPORTED)
  set_target_properties(CAF::${part} PROPERTIES
    IMPORTED_LOCATION "${CAF_${part}_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
endforeach()
set_property(TARGET CAF::core PROPERTY INTERFACE_LINK_LIBRARIES Threads::Threads)
set_property(TARGET CAF::io PROPERTY INTERFACE_LINK_LIBRARIES CAF::core)
set_property(TARGET CAF::openssl PROPERTY INTERFACE_LINK_LIBRARIES CAF::io OpenSSL::SSL)

# xmlrpc-c 1.33: the C++ server registry (transport-independent) and, for the
# benchmark baseline only, the Abyss HTTP server.
function(pl_import_xmlrpc target)
  set(locations)
  foreach(lib IN LISTS ARGN)
    find_library(XMLRPC_${lib}_LIBRARY ${lib} REQUIRED)
    list(APPEND locations "${XMLRPC_${lib}_LIBRARY}")
  endforeach()
  add_library(${target} INTERFACE IMPORTED)
  set_property(TARGET ${target} PROPERTY INTERFACE_LINK_LIBRARIES ${locations} Threads::Threads)
endfunction()
pl_import_xmlrpc(xmlrpc::server
  xmlrpc_server++ xmlrpc_server xmlrpc++ xmlrpc xmlrpc_xmlparse xmlrpc_xmltok xmlrpc_util)
pl_import_xmlrpc(xmlrpc::abyss
  xmlrpc_server_abyss++ xmlrpc_server_abyss xmlrpc_abyss)
set_property(TARGET xmlrpc::abyss APPEND PROPERTY INTERFACE_LINK_LIBRARIES xmlrpc::server)
