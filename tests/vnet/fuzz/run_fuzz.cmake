# Builds fuzz_vnet with clang in its own build tree and runs it for a bounded
# number of inputs, starting from a scratch copy of the saved corpus (new
# inputs must not land in the source tree). Invoked by the vnet.fuzz test:
#   cmake -DPL_ROOT=... -DFUZZ_BIN=... -DFUZZ_CXX=clang++-14 -DFUZZ_RUNS=N -P run_fuzz.cmake
# PL_SEED in the environment fixes libFuzzer's seed; it prints the seed either way.
foreach(var PL_ROOT FUZZ_BIN FUZZ_CXX FUZZ_RUNS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzz.cmake: ${var} not set")
  endif()
endforeach()

set(generator)
find_program(NINJA ninja)
if(NINJA)
  set(generator -G Ninja)
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${PL_ROOT}/tests/vnet/fuzz" -B "${FUZZ_BIN}" ${generator}
          "-DCMAKE_CXX_COMPILER=${FUZZ_CXX}" "-DPL_ROOT=${PL_ROOT}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the clang fuzz build failed (${rc})")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${FUZZ_BIN}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building fuzz_vnet failed (${rc})")
endif()

set(work "${FUZZ_BIN}/corpus-work")
file(REMOVE_RECURSE "${work}")
file(COPY "${PL_ROOT}/tests/vnet/fuzz/corpus/" DESTINATION "${work}")
set(seed_arg)
if(DEFINED ENV{PL_SEED})
  set(seed_arg "-seed=$ENV{PL_SEED}")
endif()
execute_process(
  COMMAND "${FUZZ_BIN}/fuzz_vnet" "-runs=${FUZZ_RUNS}" -max_len=2048 -print_final_stats=1
          "-artifact_prefix=${FUZZ_BIN}/" ${seed_arg} "${work}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz_vnet found a failure (${rc}); the crashing input is in ${FUZZ_BIN}/")
endif()
