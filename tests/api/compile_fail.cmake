# cmake -DCXX=c++ -DINCLUDE=<include root> -DSRC=file.cpp -P compile_fail.cmake
# Passes when SRC fails to compile and the diagnostics contain every
# "// expect: TEXT" line of SRC; also checks that SRC compiles with
# -DWEIR_COMPILE_FAIL_OK (the same file with the mistake fixed), so the
# failure is the one intended and not a typo.
file(STRINGS ${SRC} expects REGEX "^// expect: ")
if(NOT expects)
  message(FATAL_ERROR "${SRC}: no '// expect: ' line")
endif()
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -I${INCLUDE} ${SRC}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled, but it must not")
endif()
foreach(line ${expects})
  string(REGEX REPLACE "^// expect: " "" text "${line}")
  string(FIND "${err}" "${text}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "${SRC}: the diagnostics do not contain '${text}':\n${err}")
  endif()
endforeach()
string(REGEX MATCHALL "error:" errors "${err}")
list(LENGTH errors n)
message(STATUS "${SRC}: fails to compile as expected (${n} error lines)")
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -DWEIR_COMPILE_FAIL_OK -I${INCLUDE} ${SRC}
  RESULT_VARIABLE rc2 ERROR_VARIABLE err2)
if(NOT rc2 EQUAL 0)
  message(FATAL_ERROR "${SRC} with -DWEIR_COMPILE_FAIL_OK must compile:\n${err2}")
endif()
