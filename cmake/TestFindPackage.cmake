# The package.find_package test: installs the build tree into WORKDIR/prefix, then configures
# and builds tests/find_package (which uses find_package(rustvol)) against that prefix.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORKDIR=... -DHDF5_DIR=... [-DGENERATOR=...] -P TestFindPackage.cmake
cmake_minimum_required(VERSION 3.18)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORKDIR}")
set(prefix "${WORKDIR}/prefix")
run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
set(gen "")
if(GENERATOR)
  set(gen -G "${GENERATOR}")
endif()
run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/find_package" -B "${WORKDIR}/build" ${gen}
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DHDF5_DIR=${HDF5_DIR}"
    "-DEXAMPLE_SOURCE=${SOURCE_DIR}/h5_examples/rustvol_fapl.c")
run("${CMAKE_COMMAND}" --build "${WORKDIR}/build")
file(GLOB_RECURSE plugin "${prefix}/*/librustvol.so")
if(NOT plugin)
  message(FATAL_ERROR "librustvol.so was not installed under ${prefix}")
endif()
message(STATUS "installed ${plugin}; a find_package(rustvol) project builds against it")
