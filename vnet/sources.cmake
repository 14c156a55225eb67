# The engine's sources, shared by vnet/CMakeLists.txt and the separate clang
# build of the fuzzer (tests/vnet/fuzz/CMakeLists.txt). Paths are relative to
# the repository root.
set(PL_VNET_ENGINE_SOURCES
  vnet/bind_table.cpp
  vnet/conntrack.cpp
  vnet/engine.cpp
  vnet/packet.cpp
  vnet/prefix_set.cpp
  vnet/proxy.cpp
  vnet/types.cpp
)
