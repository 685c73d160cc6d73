# Defines the imported target rustvol::hdf5 (the C library of HDF5 >= 1.14) from an HDF5
# installation prefix.  Used by rustvol's own build and by the installed rustvolConfig.cmake.
#
#   rustvol_find_hdf5(<prefix>)
#
# <prefix> is an HDF5 installation (with include/hdf5.h and lib/libhdf5.so) or a directory
# holding HDF5's hdf5-config.cmake.  The header and library are looked up directly in the prefix first (a partial HDF5 install,
# such as the one scripts/setup-hdf5.sh makes, has no CMake package); HDF5's own CMake package
# is the fallback.
include_guard(GLOBAL)

function(rustvol_find_hdf5 prefix)
  if(TARGET rustvol::hdf5)
    return()
  endif()

  # A different prefix than last time: forget what was found there.
  if(NOT "${prefix}" STREQUAL "${RUSTVOL_HDF5_SEARCHED}")
    unset(RUSTVOL_HDF5_INCLUDE_DIR CACHE)
    unset(RUSTVOL_HDF5_LIBRARY CACHE)
    set(RUSTVOL_HDF5_SEARCHED "${prefix}" CACHE INTERNAL "HDF5 prefix searched last")
  endif()

  # 1. The header and the shared library in the prefix.
  find_path(RUSTVOL_HDF5_INCLUDE_DIR hdf5.h
    HINTS "${prefix}/include" "${prefix}/include/hdf5/serial" NO_DEFAULT_PATH)
  find_library(RUSTVOL_HDF5_LIBRARY NAMES hdf5 hdf5_serial
    HINTS "${prefix}/lib" "${prefix}/lib64" "${prefix}/lib/${CMAKE_LIBRARY_ARCHITECTURE}"
          "${prefix}/lib/${CMAKE_LIBRARY_ARCHITECTURE}/hdf5/serial" NO_DEFAULT_PATH)
  if(NOT RUSTVOL_HDF5_INCLUDE_DIR OR NOT RUSTVOL_HDF5_LIBRARY)
    unset(RUSTVOL_HDF5_INCLUDE_DIR CACHE)
    unset(RUSTVOL_HDF5_LIBRARY CACHE)
    # 2. Otherwise HDF5's own CMake package (HDF5_DIR may name its directory, as in CMake's
    #    convention for find_package(HDF5 CONFIG)).
    find_package(hdf5 CONFIG QUIET NO_DEFAULT_PATH
      PATHS "${prefix}" "${prefix}/cmake" "${prefix}/lib/cmake/hdf5" "${prefix}/share/cmake/hdf5"
            "${prefix}/share/cmake")
    foreach(t hdf5::hdf5-shared hdf5-shared hdf5::hdf5)
      if(hdf5_FOUND AND TARGET ${t})
        add_library(rustvol::hdf5 INTERFACE IMPORTED GLOBAL)
        set_target_properties(rustvol::hdf5 PROPERTIES INTERFACE_LINK_LIBRARIES ${t})
        set(RUSTVOL_HDF5_VERSION "${hdf5_VERSION}" PARENT_SCOPE)
        message(STATUS "rustvol: HDF5 ${hdf5_VERSION} from its CMake package in ${hdf5_DIR}")
        return()
      endif()
    endforeach()

    message(FATAL_ERROR "rustvol: no HDF5 in '${prefix}' (want include/hdf5.h and lib/libhdf5.so). "
      "Set HDF5_DIR to the HDF5 installation prefix (scripts/setup-hdf5.sh builds one).")
  endif()

  file(STRINGS "${RUSTVOL_HDF5_INCLUDE_DIR}/H5public.h" _vers REGEX "^#define H5_VERS_(MAJOR|MINOR|RELEASE)[ \t]")
  set(_v "")
  foreach(part MAJOR MINOR RELEASE)
    string(REGEX MATCH "H5_VERS_${part}[ \t]+([0-9]+)" _m "${_vers}")
    list(APPEND _v "${CMAKE_MATCH_1}")
  endforeach()
  string(REPLACE ";" "." _v "${_v}")
  if(_v VERSION_LESS 1.14)
    message(FATAL_ERROR "rustvol: HDF5 ${_v} in '${prefix}' is too old; the VOL connector API needs 1.14")
  endif()

  add_library(rustvol::hdf5 SHARED IMPORTED GLOBAL)
  set_target_properties(rustvol::hdf5 PROPERTIES
    IMPORTED_LOCATION "${RUSTVOL_HDF5_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${RUSTVOL_HDF5_INCLUDE_DIR}")
  set(RUSTVOL_HDF5_VERSION "${_v}" PARENT_SCOPE)
  message(STATUS "rustvol: HDF5 ${_v}: ${RUSTVOL_HDF5_LIBRARY}")
endfunction()
