# strata_module(NAME SOURCES a.cpp b.cpp DEPS strata_common OpenSSL::Crypto)
# Builds a static library strata_NAME whose public include root is src/ (so code includes
# "stun/message.hpp", "common/bytes.hpp", ...).
function(strata_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  if(M_SOURCES)
    add_library(strata_${name} STATIC ${M_SOURCES})
    target_include_directories(strata_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(strata_${name} PUBLIC ${M_DEPS})
  else()
    add_library(strata_${name} INTERFACE)
    target_include_directories(strata_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(strata_${name} INTERFACE ${M_DEPS})
  endif()
endfunction()

# strata_test(NAME SOURCES x_test.cpp DEPS strata_stun)
# One GoogleTest executable per module: strata_NAME_tests, registered with CTest.
# Tests find their fixtures through the STRATA_TESTDATA_DIR macro (tests/data).
function(strata_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(strata_${name}_tests ${T_SOURCES})
  set_property(GLOBAL APPEND PROPERTY STRATA_UNIT_TEST_TARGETS strata_${name}_tests)
  if(STRATA_SANITIZE)
    # Default ASan/UBSan options baked into the binary: they apply however the test is run
    # (ctest, gtest discovery at build time, by hand); ASAN_OPTIONS/UBSAN_OPTIONS still override.
    target_sources(strata_${name}_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/sanitizer_options.cpp)
  endif()
  target_link_libraries(strata_${name}_tests PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(strata_${name}_tests PRIVATE
    STRATA_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/tests/data")
  include(GoogleTest)
  gtest_discover_tests(strata_${name}_tests DISCOVERY_TIMEOUT 30 PROPERTIES LABELS unit)
endfunction()
