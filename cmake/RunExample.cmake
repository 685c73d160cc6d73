# Runs one example program and compares its standard output with the expected text.
# Called by ctest (see CMakeLists.txt) as
#   cmake -DEXE=<program> -DEXPECTED=<file> -DWORKDIR=<dir> -DMODE=<mode> -DFILE=<name.h5>
#         [-DINFO_FILE=<file>] [-DPLUGIN_DIR=<dir>] [-DUPDATE=ON] -P RunExample.cmake
# MODE:
#   env     HDF5_PLUGIN_PATH=PLUGIN_DIR HDF5_VOL_CONNECTOR="rustvol <info>"  (the usual way)
#   fapl    HDF5_PLUGIN_PATH=PLUGIN_DIR, no HDF5_VOL_CONNECTOR; <info> is passed as argv[2]
#   native  neither variable: HDF5's native connector (to check the harness and the examples)
# <info> is the text of INFO_FILE, or the environment variable RUSTVOL_TEST_INFO when set.
# UPDATE=ON writes the output to EXPECTED instead of comparing (regenerating, natively).
cmake_minimum_required(VERSION 3.18)

foreach(v EXE EXPECTED WORKDIR MODE FILE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "RunExample.cmake: -D${v}=... is required")
  endif()
endforeach()

set(info "")
if(DEFINED ENV{RUSTVOL_TEST_INFO})
  set(info "$ENV{RUSTVOL_TEST_INFO}")
elseif(DEFINED INFO_FILE)
  file(READ "${INFO_FILE}" info)
  string(STRIP "${info}" info)
endif()

file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")

set(args "${FILE}")
if(MODE STREQUAL "native")
  unset(ENV{HDF5_VOL_CONNECTOR})
  unset(ENV{HDF5_PLUGIN_PATH})
elseif(MODE STREQUAL "env")
  set(ENV{HDF5_PLUGIN_PATH} "${PLUGIN_DIR}")
  set(ENV{HDF5_VOL_CONNECTOR} "rustvol ${info}")
elseif(MODE STREQUAL "fapl")
  set(ENV{HDF5_PLUGIN_PATH} "${PLUGIN_DIR}")
  unset(ENV{HDF5_VOL_CONNECTOR})
  if(NOT info STREQUAL "")
    # One argument, even when the info string separates its keys with ';' (a CMake list
    # would split it into several).
    string(REPLACE ";" "\\;" info_arg "${info}")
    list(APPEND args "${info_arg}")
  endif()
else()
  message(FATAL_ERROR "RunExample.cmake: unknown MODE '${MODE}'")
endif()

if(MODE STREQUAL "native")
  message(STATUS "running ${EXE} ${FILE} natively")
elseif(MODE STREQUAL "env")
  message(STATUS "running ${EXE} ${FILE} with HDF5_PLUGIN_PATH=${PLUGIN_DIR} HDF5_VOL_CONNECTOR='rustvol ${info}'")
else()
  message(STATUS "running ${EXE} ${FILE} '${info}' with HDF5_PLUGIN_PATH=${PLUGIN_DIR}")
endif()

execute_process(
  COMMAND "${EXE}" ${args}
  WORKING_DIRECTORY "${WORKDIR}"
  OUTPUT_FILE "${WORKDIR}/stdout.txt"
  ERROR_FILE "${WORKDIR}/stderr.txt"
  RESULT_VARIABLE rc
  TIMEOUT 300)

file(READ "${WORKDIR}/stdout.txt" out)
file(READ "${WORKDIR}/stderr.txt" err)

if(UPDATE)
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "exit status: ${rc}\n--- stderr ---\n${err}\n--- stdout ---\n${out}")
  endif()
  file(WRITE "${EXPECTED}" "${out}")
  message(STATUS "wrote ${EXPECTED}")
  return()
endif()

if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "exit status: ${rc}\n--- stderr ---\n${err}\n--- stdout ---\n${out}")
endif()

# The examples expect no HDF5 errors (expected failures are silenced with H5E_BEGIN_TRY).
# This also catches HDF5 failing to load the connector named in HDF5_VOL_CONNECTOR: it then
# reports an error and carries on with the native connector.
if(err MATCHES "HDF5-DIAG")
  message(FATAL_ERROR "HDF5 reported errors (exit status ${rc}):\n${err}")
endif()
# A native HDF5 file where rustvol should have stored the file means rustvol was not used.
if(NOT MODE STREQUAL "native" AND EXISTS "${WORKDIR}/${FILE}" AND NOT IS_DIRECTORY "${WORKDIR}/${FILE}")
  file(READ "${WORKDIR}/${FILE}" sig LIMIT 8 HEX)
  if(sig STREQUAL "894844460d0a1a0a")
    message(FATAL_ERROR "${WORKDIR}/${FILE} is a native HDF5 file: the program did not go through rustvol")
  endif()
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${EXPECTED}" "${WORKDIR}/stdout.txt"
                RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  find_program(DIFF diff)
  if(DIFF)
    execute_process(COMMAND "${DIFF}" -u "${EXPECTED}" "${WORKDIR}/stdout.txt" OUTPUT_VARIABLE d)
  else()
    set(d "--- output ---\n${out}")
  endif()
  message(FATAL_ERROR "output differs from ${EXPECTED}:\n${d}\n--- stderr ---\n${err}")
endif()
if(NOT err STREQUAL "")
  message(STATUS "stderr (not compared):\n${err}")
endif()
message(STATUS "output matches ${EXPECTED}")
