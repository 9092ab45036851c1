# The simulated disk (sim/disk.h). Included from sim/CMakeLists.txt.
add_library(replsim_sim_disk
  ${CMAKE_CURRENT_SOURCE_DIR}/disk.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/disk_image.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/disk_io.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/disk_namespace.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/disk_power_loss.cc)
target_link_libraries(replsim_sim_disk PUBLIC replsim_sim_core)

replsim_test(NAME sim_disk_test LABEL unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/disk_test.cc
             LIBS replsim_sim_disk)
replsim_test(NAME sim_disk_property_test LABEL property
             SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/disk_property_test.cc LIBS replsim_sim_disk)

# build/bin/sim_disk_bench: the cost of the disk model (appends, syncs, power loss).
replsim_bench(NAME sim_disk_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/disk_bench.cc
              LIBS replsim_sim_disk)
