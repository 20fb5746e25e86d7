# One INTERFACE target carries the project-wide compile options and include root.
add_library(netrig_build_options INTERFACE)
add_library(netrig::build_options ALIAS netrig_build_options)
target_compile_features(netrig_build_options INTERFACE cxx_std_20)
target_include_directories(netrig_build_options INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}>)
target_compile_options(netrig_build_options INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Werror -Wno-missing-field-initializers>)
if(NETRIG_SANITIZE)
  target_compile_options(netrig_build_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(netrig_build_options INTERFACE -fsanitize=address,undefined)
endif()

# netrig_add_test(NAME name SOURCES ... LIBS ... LABELS unit|integration|e2e [SERIAL])
# SERIAL: tests that measure traffic through namespaces; run alone so other tests don't steal
# the CPU the senders and the kernel forwarding need (2-core machines).
# Every test binary labelled unit, so the sanitizer build can build just those.
add_custom_target(netrig_unit_tests)

function(netrig_add_test)
  cmake_parse_arguments(T "SERIAL" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE netrig::build_options GTest::gtest GTest::gmock ${T_LIBS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if("unit" IN_LIST T_LABELS)
    add_dependencies(netrig_unit_tests ${T_NAME})
  endif()
  set(serial FALSE)
  if(T_SERIAL)
    set(serial TRUE)
  endif()
  gtest_discover_tests(${T_NAME}
    TEST_PREFIX "${T_NAME}."
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} RUN_SERIAL ${serial}
    DISCOVERY_TIMEOUT 60)
endfunction()
