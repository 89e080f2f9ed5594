# gossamer_discover_test_suites(<target> LABELS <labels> [COST <n>] [DISCOVERY_TIMEOUT <s>])
# Like gtest_discover_tests, but one ctest entry per gtest suite (reasons in
# cmake/GossamerListSuites.cmake). Discovery runs after every link of <target>, so
# new tests and new tests/<folder>/*.cpp files need no CMake edit.
# COST orders the run: ctest starts the costliest entries first on a fresh build tree
# (afterwards it uses the times it measured, Testing/Temporary/CTestCostData.txt).
function(gossamer_discover_test_suites target)
  cmake_parse_arguments(ARG "" "COST;DISCOVERY_TIMEOUT" "LABELS" ${ARGN})
  if(NOT ARG_COST)
    set(ARG_COST 0)
  endif()
  if(NOT ARG_DISCOVERY_TIMEOUT)
    set(ARG_DISCOVERY_TIMEOUT 60)
  endif()
  string(REGEX REPLACE "^test_" "" prefix "${target}")
  set(ctest_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites.cmake")
  add_custom_command(TARGET ${target} POST_BUILD
    BYPRODUCTS "${ctest_file}"
    COMMAND "${CMAKE_COMMAND}"
            -D "TEST_EXECUTABLE=$<TARGET_FILE:${target}>"
            -D "CTEST_FILE=${ctest_file}"
            -D "PREFIX=${prefix}"
            -D "LABELS=${ARG_LABELS}"
            -D "WORKING_DIR=${CMAKE_CURRENT_BINARY_DIR}"
            -D "COST=${ARG_COST}"
            -D "DISCOVERY_TIMEOUT=${ARG_DISCOVERY_TIMEOUT}"
            -P "${CMAKE_SOURCE_DIR}/cmake/GossamerListSuites.cmake"
    VERBATIM)
  # Until the binary is built, ctest shows one failing entry saying so.
  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites_include.cmake")
  file(WRITE "${include_file}"
    "if(EXISTS \"${ctest_file}\")\n"
    "  include(\"${ctest_file}\")\n"
    "else()\n"
    "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()

