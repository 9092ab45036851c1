# build/bin/merkle_bench: merkle index updates, reconciliation at 1 M keys, recovery vs rebuild.
replsim_bench(NAME merkle_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/merkle_bench.cc
              LIBS replsim_merkle replsim_aries replsim_sim_disk)
