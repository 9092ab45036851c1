# build/bin/storage_bench: group commit throughput/latency in virtual time, and CPU per commit.
replsim_bench(NAME storage_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/storage_bench.cc
              LIBS replsim_storage replsim_sim_disk)
