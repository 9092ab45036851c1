# The simulated world's speed: event loop and network message delivery.
replsim_bench(NAME sim_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/sim_bench.cc LIBS replsim_sim)
