# pl_add_suite(<component.unit> SOURCES ... [LIBS ...] [TIMEOUT s] [SERIAL] [LABELS ...])
#
# One Catch2 executable and one ctest entry per suite. SERIAL marks suites
# that use host-wide resources (cgroups, network namespaces, root-only knobs).
find_package(Catch2 2 REQUIRED)

add_library(pl_catch_main OBJECT "${PROJECT_SOURCE_DIR}/tests/catch_main.cpp")
target_link_libraries(pl_catch_main PUBLIC Catch2::Catch2 pl_flags)

function(pl_add_suite name)
  cmake_parse_arguments(arg "SERIAL" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  string(REPLACE "." "_" exe "test_${name}")
  add_executable(${exe} ${arg_SOURCES} $<TARGET_OBJECTS:pl_catch_main>)
  target_link_libraries(${exe} PRIVATE Catch2::Catch2 pl_flags ${arg_LIBS})
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 120)
  endif()
  add_test(NAME ${name} COMMAND ${exe})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${arg_TIMEOUT})
  if(arg_SERIAL)
    set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE)
  endif()
  if(arg_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${arg_LABELS}")
  endif()
endfunction()
