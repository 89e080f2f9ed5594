# Helpers that keep one library per folder without a CMakeLists in every folder.

function(gossamer_apply_flags target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
  if(GOSSAMER_NATIVE)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
  else()
    # AVX2+FMA is the floor of every x86 server we target; keeps CI and dev boxes alike.
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-mavx2 -mfma -mf16c>)
  endif()
  if(GOSSAMER_ASAN)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(GOSSAMER_FUZZ)
    # Coverage instrumentation for libFuzzer; the fuzz targets link the fuzzer itself.
    target_compile_options(${target} PRIVATE
      -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  endif()
endfunction()

# Test programs' own code compiles at -Og: about 40% less compile time per test file than
# -O2 (docs/PERFORMANCE.md, "Test suite time") with full debug info; the code under test
# (the gossamer_* libraries, the gossamer binary) keeps the build type's flags. Not in
# Debug builds, which stay at -O0.
set(GOSSAMER_TEST_OPT_FLAGS "-Og" CACHE STRING "Optimization flags for test programs' own sources")
function(gossamer_test_flags target)
  separate_arguments(flags UNIX_COMMAND "${GOSSAMER_TEST_OPT_FLAGS}")
  target_compile_options(${target} PRIVATE
    "$<$<AND:$<COMPILE_LANGUAGE:CXX>,$<NOT:$<CONFIG:Debug>>>:${flags}>")
endfunction()

# gossamer_library(<folder> DEPS <targets...> [SUBDIRS <subfolders...>])
# Builds gossamer_<folder> from <folder>/*.cpp (+ the listed subfolders).
function(gossamer_library folder)
  cmake_parse_arguments(ARG "" "" "DEPS;SUBDIRS" ${ARGN})
  set(globs ${CMAKE_SOURCE_DIR}/${folder}/*.cpp)
  foreach(sub ${ARG_SUBDIRS})
    list(APPEND globs ${CMAKE_SOURCE_DIR}/${folder}/${sub}/*.cpp)
  endforeach()
  file(GLOB sources CONFIGURE_DEPENDS ${globs})
  set(target gossamer_${folder})
  if(sources)
    add_library(${target} STATIC ${sources})
    # Unity build: a library's sources compile in batches, so the heavy headers (json,
    # fmt, spdlog, zmq) are parsed and their templates instantiated once per batch rather
    # than once per file (docs/PERFORMANCE.md, "Test suite time").
    set_target_properties(${target} PROPERTIES UNITY_BUILD ${GOSSAMER_UNITY_BUILD} UNITY_BUILD_BATCH_SIZE 8)
    target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR})
    target_link_libraries(${target} PUBLIC ${ARG_DEPS})
    gossamer_apply_flags(${target})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${CMAKE_SOURCE_DIR})
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
  endif()
  if(GOSSAMER_ASAN)
    target_link_options(${target} INTERFACE -fsanitize=address,undefined)
  endif()
endfunction()

function(gossamer_add_cuda_sources target folder)
  file(GLOB cu CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${folder}/*.cu)
  if(cu)
    target_sources(${target} PRIVATE ${cu})
    # cuBLAS: the dense GEMM of many rows (kernels/cuda/linear.cu).
    target_link_libraries(${target} PUBLIC CUDA::cudart CUDA::cublas)
    target_compile_definitions(${target} PUBLIC GOSSAMER_HAVE_CUDA=1)
    # CMake 3.25 knows no nvcc flag for C++20 and would otherwise inherit CXX_STANDARD 20
    # for the .cu files; the CUDA sources only need C++17.
    set_target_properties(${target} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF CUDA_STANDARD 17)
  endif()
endfunction()

# Unity builds of the test programs: a test program's sources compile in batches of
# GOSSAMER_TEST_UNITY_BATCH, so gtest, nlohmann/json and fmt are parsed and instantiated once
# per batch rather than once per file (docs/PERFORMANCE.md, "Test suite time").
#
# The rule that keeps this working: the files of one tests/<folder> (and of one multi-rank
# test program) must be able to share a translation unit. Batches follow the sorted file
# names, so a new file can land beside any other. Hence, in every test file:
# * file-local names (constants, helpers, fixtures' free functions, in an anonymous
#   namespace or static) are distinctive: name them after the file's subject
#   (kLinearTol, not kTol; backpressure_options(), not options()). Two equal names are a
#   redefinition error at best, and at worst -- two helpers of one name with different
#   parameters -- a silent overload that calls the other file's helper;
# * helpers several files need go in a shared header of the folder (cli_runner.h,
#   golden_data.h...) instead of a copy per file;
# * a file-scope `using namespace` reaches the files after it in its batch: only for
#   namespaces the whole folder uses anyway (gossamer::testing in tests/model, ...), and a
#   macro a file defines is #undef'd at its end.
# A clash shows up as a compile error in test_<folder>: rename, never drop a test. Tests
# that must not share a translation unit (e.g. ones that replace operator new) build a
# program of their own. -DGOSSAMER_UNITY_BUILD=OFF compiles file by file.
set(GOSSAMER_TEST_UNITY_BATCH 8 CACHE STRING "Test source files per unity batch (1: file by file)")
function(gossamer_test_unity target)
  if(GOSSAMER_UNITY_BUILD AND GOSSAMER_TEST_UNITY_BATCH GREATER 1)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${GOSSAMER_TEST_UNITY_BATCH})
  endif()
endfunction()

# gossamer_test(<folder> DEPS <targets...> [COST <n>]): tests/<folder>/*.cpp -> test_<folder>,
# one ctest entry per gtest suite (cmake/GossamerTestSuites.cmake), with the main() of
# tests/common/gtest_main.cpp (a run where no test ran fails, one where all skipped is
# reported skipped).
function(gossamer_test folder)
  cmake_parse_arguments(ARG "" "COST" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${folder}/*.cpp)
  if(NOT sources)
    return()
  endif()
  if(NOT TARGET gossamer_gtest_main)  # compiled once, linked into every test_<folder>
    add_library(gossamer_gtest_main STATIC ${CMAKE_SOURCE_DIR}/tests/common/gtest_main.cpp)
    target_link_libraries(gossamer_gtest_main PUBLIC GTest::gtest)
    gossamer_apply_flags(gossamer_gtest_main)
  endif()
  add_executable(test_${folder} ${sources})
  target_link_libraries(test_${folder} PRIVATE ${ARG_DEPS} gossamer_gtest_main)
  target_compile_definitions(test_${folder} PRIVATE GOSSAMER_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data")
  if(TARGET gossamer)  # not in the fuzz tree, which builds only the readers' tests
    target_compile_definitions(test_${folder} PRIVATE GOSSAMER_BINARY="$<TARGET_FILE:gossamer>")
  endif()
  gossamer_apply_flags(test_${folder})
  gossamer_test_flags(test_${folder})
  gossamer_test_unity(test_${folder})
  gossamer_discover_test_suites(test_${folder} LABELS ${folder} COST ${ARG_COST})
endfunction()

# Link/define with PUBLIC on a compiled library, INTERFACE on a header-only one.
function(gossamer_link_public target)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_link_libraries(${target} INTERFACE ${ARGN})
  else()
    target_link_libraries(${target} PUBLIC ${ARGN})
  endif()
endfunction()
function(gossamer_define_public target)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_compile_definitions(${target} INTERFACE ${ARGN})
  else()
    target_compile_definitions(${target} PUBLIC ${ARGN})
  endif()
endfunction()
