# cmake -DPYTHON=<python3> -DSOURCE_DIR=<repo> -DSINGLE_HEADER=<built smtpp.hpp>
#       -DVERSION=<x.y.z> -DWORK_DIR=<scratch dir> -P check_single_header.cmake
# The single header generator (.ci/single_header.py):
#   - run again, it writes the same bytes the build wrote (deterministic, up to date);
#   - the result has one include guard, no smtpp include left, the license and the version;
#   - it fails, naming the problem and writing nothing, on an include cycle, a missing header,
#     an smtpp include under #if, a header the umbrella never reaches and a non-ASCII byte.
foreach(_var PYTHON SOURCE_DIR SINGLE_HEADER VERSION WORK_DIR)
  if("${${_var}}" STREQUAL "")
    message(FATAL_ERROR "check_single_header.cmake: -D${_var}=... is required")
  endif()
endforeach()
set(_generator "${SOURCE_DIR}/.ci/single_header.py")
file(REMOVE_RECURSE "${WORK_DIR}")
set(errors 0)

function(_generate include_dir output result_var stderr_var)
  execute_process(COMMAND "${PYTHON}" "${_generator}" --include-dir "${include_dir}"
                          --license "${SOURCE_DIR}/LICENSE" --output "${output}"
                  RESULT_VARIABLE _rc ERROR_VARIABLE _stderr)
  set(${result_var} "${_rc}" PARENT_SCOPE)
  set(${stderr_var} "${_stderr}" PARENT_SCOPE)
endfunction()

# ---- the real tree ----
_generate("${SOURCE_DIR}/include" "${WORK_DIR}/again/smtpp.hpp" rc stderr)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the generator failed on the source tree (${rc}): ${stderr}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${SINGLE_HEADER}"
                        "${WORK_DIR}/again/smtpp.hpp" RESULT_VARIABLE different)
if(different)
  message(SEND_ERROR "a second run wrote different bytes than the build's ${SINGLE_HEADER}: "
                     "the generator is not deterministic, or the build is stale (rebuild)")
  math(EXPR errors "${errors} + 1")
endif()

file(STRINGS "${SINGLE_HEADER}" guards REGEX "^#define SMTPP_[A-Z0-9_]*_HPP$")
if(NOT guards STREQUAL "#define SMTPP_SINGLE_HEADER_HPP")
  message(SEND_ERROR "expected one include guard, SMTPP_SINGLE_HEADER_HPP, found: ${guards}")
  math(EXPR errors "${errors} + 1")
endif()
file(STRINGS "${SINGLE_HEADER}" internal REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]smtpp[/.]")
if(internal)
  message(SEND_ERROR "smtpp includes left in the single header: ${internal}")
  math(EXPR errors "${errors} + 1")
endif()
file(STRINGS "${SINGLE_HEADER}" head LIMIT_COUNT 12)
string(JOIN "\n" head "" ${head} "")
foreach(expected "\n// smtpp ${VERSION}: " "\n// SPDX-License-Identifier: MIT\n" "\n// MIT License\n")
  if(NOT head MATCHES "${expected}")
    message(SEND_ERROR "the single header's first lines do not match '${expected}'")
    math(EXPR errors "${errors} + 1")
  endif()
endforeach()
# Every header under include/smtpp/ once: its own section marker, exactly one time.
file(READ "${SINGLE_HEADER}" content)
file(GLOB_RECURSE headers RELATIVE "${SOURCE_DIR}/include" "${SOURCE_DIR}/include/smtpp/*.hpp")
foreach(header IN LISTS headers)
  string(REGEX MATCHALL "\n// <${header}>\n" sections "${content}")
  list(LENGTH sections count)
  if(NOT count EQUAL 1)
    message(SEND_ERROR "<${header}> appears ${count} times in the single header, not once")
    math(EXPR errors "${errors} + 1")
  endif()
endforeach()

# ---- trees the generator must refuse ----
function(_header dir name)
  string(MAKE_C_IDENTIFIER "${name}" guard)
  string(TOUPPER "${guard}" guard)
  string(REPLACE ";" "\n" body "${ARGN}")
  file(WRITE "${dir}/${name}" "// ${name}\n#ifndef ${guard}\n#define ${guard}\n${body}\n#endif\n")
endfunction()

function(_expect_refusal case expected)
  set(output "${WORK_DIR}/${case}/out/smtpp.hpp")
  _generate("${WORK_DIR}/${case}/include" "${output}" rc stderr)
  if(rc EQUAL 0 OR NOT stderr MATCHES "${expected}" OR EXISTS "${output}")
    message(SEND_ERROR "${case}: expected a failure matching '${expected}' and no output, got "
                       "exit ${rc}: ${stderr}")
    set(errors 1 PARENT_SCOPE)
  else()
    string(STRIP "${stderr}" stderr)
    message(STATUS "${case}: refused as expected: ${stderr}")
  endif()
endfunction()

set(tree "${WORK_DIR}/cycle/include")
_header("${tree}" smtpp.hpp "#include <smtpp/a.hpp>")
_header("${tree}" smtpp/a.hpp "#include <smtpp/b.hpp>")
_header("${tree}" smtpp/b.hpp "#include <cstddef>" "#include <smtpp/a.hpp>")
_expect_refusal(cycle "include cycle: smtpp/a\\.hpp -> smtpp/b\\.hpp -> smtpp/a\\.hpp")

set(tree "${WORK_DIR}/missing/include")
_header("${tree}" smtpp.hpp "#include <smtpp/a.hpp>")
_header("${tree}" smtpp/a.hpp "#include <smtpp/gone.hpp>")
_expect_refusal(missing "smtpp/a\\.hpp:4: cannot find <smtpp/gone\\.hpp>")

set(tree "${WORK_DIR}/conditional/include")
_header("${tree}" smtpp.hpp "#include <smtpp/a.hpp>")
_header("${tree}" smtpp/a.hpp "#if defined(X)" "#include <smtpp/b.hpp>" "#endif")
_header("${tree}" smtpp/b.hpp "int b;")
_expect_refusal(conditional "smtpp/a\\.hpp:5: <smtpp/b\\.hpp> is included under #if")

set(tree "${WORK_DIR}/unreached/include")
_header("${tree}" smtpp.hpp "#include <smtpp/a.hpp>")
_header("${tree}" smtpp/a.hpp "int a;")
_header("${tree}" smtpp/detail/orphan.hpp "int orphan;")
_expect_refusal(unreached "does not reach smtpp/detail/orphan\\.hpp")

set(tree "${WORK_DIR}/non_ascii/include")
_header("${tree}" smtpp.hpp "#include <smtpp/a.hpp>")
string(ASCII 233 e_acute)
_header("${tree}" smtpp/a.hpp "// caf${e_acute}")
_expect_refusal(non_ascii "smtpp/a\\.hpp:4: byte 0x[0-9a-f]+ is not printable ASCII")

if(errors GREATER 0)
  message(FATAL_ERROR "the single header generator misbehaved")
endif()
message(STATUS "single header: deterministic, one guard, every header once, refusals as expected")
