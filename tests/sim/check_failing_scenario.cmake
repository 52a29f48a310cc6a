# Asserts that `keb-sim run FILE` exits 1 (a check failed, the file is valid) and that its output
# holds every line of EXPECT (e.g. "FAIL notifications.start: expected 14, got 15"): a checker
# must be able to fail, and must say why.
file(STRINGS ${EXPECT} lines)
execute_process(COMMAND ${KEB_SIM} run ${FILE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "expected exit status 1, got ${rc}\nstdout: ${out}\nstderr: ${err}")
endif()
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  string(FIND "${out}" "${line}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "the output does not contain: ${line}\nstdout: ${out}")
  endif()
endforeach()
message(STATUS "ok: exit 1 with the expected verdicts")
