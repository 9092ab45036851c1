# The simulated world beyond the event loop (included from sim/CMakeLists.txt):
# replsim_sim_net — network and buggify (no disk); replsim_sim — per-node SimEnv and SimWorld.
add_library(replsim_sim_net network.cc buggify.cc)
target_link_libraries(replsim_sim_net PUBLIC replsim_sim_core)
replsim_test(NAME sim_network_test LABEL unit SOURCES network_test.cc buggify_test.cc
             LIBS replsim_sim_net)

add_library(replsim_sim sim_env.cc world.cc)
target_link_libraries(replsim_sim PUBLIC replsim_sim_net replsim_sim_core replsim_sim_disk)
replsim_test(NAME sim_world_test LABEL unit SOURCES world_test.cc process_test.cc world_cpu_test.cc
             LIBS replsim_sim)
replsim_test(NAME sim_network_property_test LABEL property SOURCES network_property_test.cc
             LIBS replsim_sim_net)
