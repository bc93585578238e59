# Work units, poison isolation and the end-to-end benchmark (issue 13, 10.2).
add_library(fmt_refuse MODULE ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/plugins/refuse_format.c)
set_target_properties(fmt_refuse PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY
                      ${CMAKE_BINARY_DIR}/test-plugins)
target_link_libraries(fmt_refuse PRIVATE zvutil)
target_include_directories(fmt_refuse PRIVATE ${CMAKE_SOURCE_DIR}/include)
zv_add_script_test(integration/render_poison
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/render_poison.sh TIMEOUT 300)
set_property(TEST integration/render_poison APPEND PROPERTY ENVIRONMENT
             "ZV_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/test-plugins")
# A small run of the benchmark: that it works end to end, no timing asserted.
zv_add_script_test(bench/e2e_bench_smoke ${CMAKE_CURRENT_SOURCE_DIR}/bench/e2e_bench
                   TIMEOUT 600)
set_property(TEST bench/e2e_bench_smoke PROPERTY
             ENVIRONMENT "${ZV_TEST_ENV};ZV_E2E_ARGS=--clients 2000 --build ${CMAKE_BINARY_DIR}")
zv_add_script_test(integration/render_units_daemon
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/render_units_daemon.sh TIMEOUT 300)
set_property(TEST integration/render_units_daemon APPEND PROPERTY ENVIRONMENT
             "ZV_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/test-plugins")
