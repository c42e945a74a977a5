# Consumer test driver, run by ctest as `cmake -D... -DMODE=<mode> -P run_consumer.cmake`.
# Every mode works in WORK_DIR (inside the build directory) and never writes into SOURCE_DIR.
#   install           cmake --install the build into WORK_DIR/prefix and check the tree
#   find_package      find_package(smtpp) against WORK_DIR/prefix
#   build_tree        find_package(smtpp) against the build tree's export
#   add_subdirectory  add_subdirectory(<source tree>)
#   fetchcontent      FetchContent_Declare(smtpp SOURCE_DIR <source tree>)
#   pkg_config        pkg-config --cflags smtpp against WORK_DIR/prefix, compile and run
#   meson_subproject  a Meson project with a copy of smtpp in subprojects/smtpp
#   single_header     SINGLE_HEADER alone on the include path (no include/): main.cpp and
#                     examples/quickstart.cpp, with our warnings as errors
# Each mode builds tests/consumers/main.cpp with the outer build's compiler CXX and runs it.
cmake_minimum_required(VERSION 3.21)

foreach(_var MODE SOURCE_DIR BUILD_DIR WORK_DIR CXX GENERATOR VERSION)
  if("${${_var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${_var}=... is required")
  endif()
endforeach()

set(_here "${CMAKE_CURRENT_LIST_DIR}")
set(_prefix "${WORK_DIR}/prefix")
set(_work "${WORK_DIR}/${MODE}")

function(_run)
  string(REPLACE ";" " " _shown "${ARGN}")
  message(STATUS "$ ${_shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "command failed (${_rc}): ${_shown}")
  endif()
endfunction()

# Configure, build and run a CMake consumer project.
function(_cmake_consumer project_dir)
  file(REMOVE_RECURSE "${_work}")
  set(_make_program "")
  if(MAKE_PROGRAM)
    set(_make_program "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  _run("${CMAKE_COMMAND}" -S "${project_dir}" -B "${_work}" -G "${GENERATOR}" ${_make_program}
       "-DCMAKE_CXX_COMPILER=${CXX}" -DCMAKE_BUILD_TYPE=Debug
       "-DSMTPP_EXPECTED_VERSION=${VERSION}" ${ARGN})
  _run("${CMAKE_COMMAND}" --build "${_work}")
  _run("${_work}/consumer")
endfunction()

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE "${_prefix}")
  _run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${_prefix}")
  # Expected: every header of the source tree, byte for byte, and the package files.
  file(GLOB_RECURSE _headers RELATIVE "${SOURCE_DIR}/include" "${SOURCE_DIR}/include/*.hpp")
  set(_expected "")
  foreach(_header IN LISTS _headers)
    list(APPEND _expected "${INCLUDEDIR}/${_header}")
  endforeach()
  list(APPEND _expected
    "${CMAKEDIR}/smtppConfig.cmake" "${CMAKEDIR}/smtppConfigVersion.cmake"
    "${CMAKEDIR}/smtppTargets.cmake" "${PKGCONFIGDIR}/smtpp.pc")
  list(FIND _expected "${INCLUDEDIR}/smtpp.hpp" _umbrella)
  if(_umbrella EQUAL -1)
    message(FATAL_ERROR "source tree has no include/smtpp.hpp")
  endif()
  set(_errors 0)
  foreach(_file IN LISTS _expected)
    if(NOT EXISTS "${_prefix}/${_file}")
      message(SEND_ERROR "install tree lacks ${_file}")
      math(EXPR _errors "${_errors} + 1")
    endif()
  endforeach()
  foreach(_header IN LISTS _headers)
    execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files
                    "${SOURCE_DIR}/include/${_header}" "${_prefix}/${INCLUDEDIR}/${_header}"
                    RESULT_VARIABLE _different OUTPUT_QUIET ERROR_QUIET)
    if(_different)
      message(SEND_ERROR "installed ${_header} differs from the source")
      math(EXPR _errors "${_errors} + 1")
    endif()
  endforeach()
  # Nothing else: no test binaries, examples or stray files in a consumer's prefix.
  file(GLOB_RECURSE _installed RELATIVE "${_prefix}" "${_prefix}/*")
  foreach(_file IN LISTS _installed)
    list(FIND _expected "${_file}" _index)
    if(_index EQUAL -1)
      message(SEND_ERROR "unexpected file in the install tree: ${_file}")
      math(EXPR _errors "${_errors} + 1")
    endif()
  endforeach()
  if(_errors GREATER 0)
    message(FATAL_ERROR "install tree ${_prefix} is wrong (${_errors} problem(s))")
  endif()
  list(LENGTH _installed _count)
  message(STATUS "install tree ${_prefix}: ${_count} files as expected")

elseif(MODE STREQUAL "find_package")
  _cmake_consumer("${_here}/find_package" "-DCMAKE_PREFIX_PATH=${_prefix}"
                  "-DSMTPP_EXPECTED_DIR=${_prefix}/${CMAKEDIR}"
                  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)

elseif(MODE STREQUAL "build_tree")
  _cmake_consumer("${_here}/find_package" "-Dsmtpp_DIR=${BUILD_DIR}/smtpp-package"
                  "-DSMTPP_EXPECTED_DIR=${BUILD_DIR}/smtpp-package"
                  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)

elseif(MODE STREQUAL "add_subdirectory")
  _cmake_consumer("${_here}/add_subdirectory" "-DSMTPP_SOURCE_DIR=${SOURCE_DIR}"
                  -DSMTPP_USE_FETCHCONTENT=OFF)

elseif(MODE STREQUAL "fetchcontent")
  _cmake_consumer("${_here}/add_subdirectory" "-DSMTPP_SOURCE_DIR=${SOURCE_DIR}"
                  -DSMTPP_USE_FETCHCONTENT=ON -DFETCHCONTENT_FULLY_DISCONNECTED=ON)

elseif(MODE STREQUAL "pkg_config")
  if(NOT PKG_CONFIG)
    # Matched by the test's SKIP_REGULAR_EXPRESSION: ctest reports the test as skipped.
    message("SMTPP-CONSUMER-SKIPPED: pkg-config not found (apt-get install pkg-config)")
    return()
  endif()
  file(REMOVE_RECURSE "${_work}")
  file(MAKE_DIRECTORY "${_work}")
  # Only our prefix: a system-wide smtpp.pc must not satisfy the lookup.
  set(_env "${CMAKE_COMMAND}" -E env "PKG_CONFIG_LIBDIR=${_prefix}/${PKGCONFIGDIR}"
      --unset=PKG_CONFIG_PATH)
  execute_process(COMMAND ${_env} "${PKG_CONFIG}" --modversion smtpp
                  OUTPUT_VARIABLE _modversion OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0 OR NOT _modversion STREQUAL VERSION)
    message(FATAL_ERROR "pkg-config --modversion smtpp: '${_modversion}' (${_rc}), want ${VERSION}")
  endif()
  execute_process(COMMAND ${_env} "${PKG_CONFIG}" --cflags smtpp
                  OUTPUT_VARIABLE _cflags OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "pkg-config --cflags smtpp failed (${_rc})")
  endif()
  message(STATUS "pkg-config --cflags smtpp: ${_cflags}")
  separate_arguments(_cflags UNIX_COMMAND "${_cflags}")
  # The -I must lead to the installed headers (the .pc file is relocatable via ${pcfiledir}).
  set(_include_ok FALSE)
  file(REAL_PATH "${_prefix}/${INCLUDEDIR}" _want)
  foreach(_flag IN LISTS _cflags)
    if(_flag MATCHES "^-I(.+)$")
      file(REAL_PATH "${CMAKE_MATCH_1}" _got)
      if(_got STREQUAL _want)
        set(_include_ok TRUE)
      endif()
    endif()
  endforeach()
  if(NOT _include_ok)
    message(FATAL_ERROR "pkg-config --cflags smtpp does not point at ${_want}: ${_cflags}")
  endif()
  _run("${CXX}" -std=c++17 -Wall -Wextra -Wpedantic -Werror ${_cflags}
       "-DSMTPP_CONSUMER_EXPECTED_VERSION=\"${_modversion}\""
       "${_here}/main.cpp" -o "${_work}/consumer")
  _run("${_work}/consumer")

elseif(MODE STREQUAL "meson_subproject")
  if(NOT MESON)
    message("SMTPP-CONSUMER-SKIPPED: meson not found (apt-get install meson)")
    return()
  endif()
  file(REMOVE_RECURSE "${_work}")
  set(_project "${_work}/project")
  set(_copy "${_project}/subprojects/smtpp")
  file(MAKE_DIRECTORY "${_copy}")
  file(COPY "${_here}/meson_subproject/meson.build" "${_here}/main.cpp" DESTINATION "${_project}")
  # Copy only what the library needs as a subproject (a symlink back to the checkout could
  # loop through this very build directory); this also proves a subproject never reads tests/.
  file(COPY "${SOURCE_DIR}/meson.build" "${SOURCE_DIR}/meson_options.txt"
            "${SOURCE_DIR}/include" DESTINATION "${_copy}")
  _run("${CMAKE_COMMAND}" -E env "CXX=${CXX}" "${MESON}" setup --wrap-mode=nodownload --force-fallback-for=smtpp
       "${_work}/build" "${_project}")
  _run("${MESON}" compile -C "${_work}/build")
  _run("${_work}/build/consumer")

elseif(MODE STREQUAL "single_header")
  if(NOT EXISTS "${SINGLE_HEADER}")
    message(FATAL_ERROR "no single header at '${SINGLE_HEADER}': build the smtpp_single_header "
                        "target first")
  endif()
  file(REMOVE_RECURSE "${_work}")
  # A directory holding nothing but the generated file is the only include path.
  file(COPY "${SINGLE_HEADER}" DESTINATION "${_work}/include")
  set(_flags -std=c++17 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror
      "-I${_work}/include")
  _run("${CXX}" ${_flags} "-DSMTPP_CONSUMER_EXPECTED_VERSION=\"${VERSION}\""
       "${_here}/main.cpp" -o "${_work}/consumer")
  _run("${_work}/consumer")
  # The quickstart as a single-header user writes it: its <smtpp/...> includes become the one
  # header, nothing else changes.
  file(READ "${SOURCE_DIR}/examples/quickstart.cpp" _quickstart)
  string(REGEX REPLACE "#include <smtpp/[a-z_]+\\.hpp>" "#include <smtpp.hpp>" _quickstart
         "${_quickstart}")
  string(FIND "${_quickstart}" "#include <smtpp.hpp>" _single)
  string(FIND "${_quickstart}" "<smtpp/" _multi)
  if(_single EQUAL -1 OR NOT _multi EQUAL -1)
    message(FATAL_ERROR "examples/quickstart.cpp: cannot switch its includes to <smtpp.hpp>")
  endif()
  file(WRITE "${_work}/quickstart.cpp" "${_quickstart}")
  _run("${CXX}" ${_flags} "${_work}/quickstart.cpp" -o "${_work}/quickstart")
  message(STATUS "$ ${_work}/quickstart")
  execute_process(COMMAND "${_work}/quickstart" RESULT_VARIABLE _rc OUTPUT_VARIABLE _out)
  if(NOT _rc EQUAL 0 OR NOT _out MATCHES "250 2\\.0\\.0 Message accepted")
    message(FATAL_ERROR "quickstart on the single header failed (${_rc}):\n${_out}")
  endif()
  message(STATUS "quickstart on the single header: message accepted")

else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()
