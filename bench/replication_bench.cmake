# build/bin/replication_bench: steady replication lag, RAW warnings and CPU per replicated write.
replsim_bench(NAME replication_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/replication_bench.cc
              LIBS replsim_cluster_testing)
