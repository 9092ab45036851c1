# scenario_bench: the simulator's speed on the standard scenario.
replsim_bench(NAME scenario_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/scenario_bench.cc
              LIBS replsim_cli)
target_compile_definitions(scenario_bench PRIVATE REPLSIM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
