# replsim_test(NAME <name> LABEL <unit|property|slow> SOURCES <files...> LIBS <targets...>)
# One GoogleTest binary in build/bin/, registered with ctest under its label.
# Property tests link RapidCheck's GoogleTest integration.
function(replsim_test)
  cmake_parse_arguments(T "" "NAME;LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main
                        rapidcheck rapidcheck_gtest)
  if(T_LABEL STREQUAL "property")
    # Reproducible CI: a caller's RC_PARAMS (make soak: random seed, printed by RapidCheck)
    # else the fixed seed 1 (printed too, in RapidCheck's "Using configuration" line).
    add_test(NAME ${T_NAME} COMMAND sh -c
             "RC_PARAMS=\"\${RC_PARAMS:-seed=1}\" exec \"$<TARGET_FILE:${T_NAME}>\"")
  else()
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT})
  # The test binaries by label (fuzz/CMakeLists.txt builds the unit ones for the sanitizer pass).
  set_property(GLOBAL APPEND PROPERTY REPLSIM_TESTS_${T_LABEL} ${T_NAME})
endfunction()

# replsim_bench(NAME <name> SOURCES <files...> LIBS <targets...>): a Google Benchmark binary.
function(replsim_bench)
  cmake_parse_arguments(B "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${B_NAME} ${B_SOURCES})
  target_link_libraries(${B_NAME} PRIVATE ${B_LIBS} benchmark::benchmark benchmark::benchmark_main)
endfunction()
