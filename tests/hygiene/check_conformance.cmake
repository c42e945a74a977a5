# cmake -DCONFORMANCE=<repo>/tests/conformance.md -DREPO=<repo> -P check_conformance.cmake
# Every requirement id of the conformance checklist (S-<rfc>-<section>-<letter>) is cited by at
# least one test: a Catch2 test or fuzz target, a transcript (its name or text), or an
# example's interop or hardening script. A row without a test fails here.
file(READ "${CONFORMANCE}" checklist)
string(REGEX MATCHALL "\n\\| S-[0-9A-Za-z.]+-[0-9A-Za-z.]+-[a-z]+ " rows "${checklist}")
list(LENGTH rows count)
if(count LESS 100)
  message(FATAL_ERROR "only ${count} rows found in ${CONFORMANCE}: has its format changed?")
endif()
file(GLOB_RECURSE sources
     "${REPO}/tests/*.cpp" "${REPO}/tests/*.hpp" "${REPO}/tests/transcripts/*"
     "${REPO}/examples/interop/*" "${REPO}/examples/hardening/*")
set(corpus "")
foreach(source IN LISTS sources)
  file(READ "${source}" text)
  string(APPEND corpus "${source}\n${text}\n")
endforeach()
set(missing "")
foreach(row IN LISTS rows)
  string(REGEX REPLACE "^\n\\| (S-[^ ]+) $" "\\1" id "${row}")
  string(FIND "${corpus}" "${id}" at)
  if(at EQUAL -1)
    list(APPEND missing "${id}")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "conformance rows no test cites: ${missing}")
endif()
message(STATUS "${count} conformance rows, each cited by a test")
