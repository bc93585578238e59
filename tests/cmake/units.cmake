# Units of work (daemon/core/unit.c): a source fixture that leaves a unit open.
add_library(in_leaky MODULE ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/plugins/leaky_source.c)
set_target_properties(in_leaky PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY
                                          ${CMAKE_BINARY_DIR}/test-plugins)
target_include_directories(in_leaky PRIVATE ${CMAKE_SOURCE_DIR}/include)
add_dependencies(test_core_units in_leaky)
set_property(TEST unit/test_core_units APPEND PROPERTY ENVIRONMENT
             "ZV_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/test-plugins")
# Worker threads (daemon/core/workers.c): a format whose render waits for the loop.
add_library(fmt_blocking MODULE ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/plugins/blocking_format.c)
set_target_properties(fmt_blocking PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY
                                              ${CMAKE_BINARY_DIR}/test-plugins)
target_include_directories(fmt_blocking PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(fmt_blocking PRIVATE Threads::Threads)
add_dependencies(test_core_workers in_leaky fmt_blocking out_good_transport)
set_property(TEST unit/test_core_workers APPEND PROPERTY ENVIRONMENT
             "ZV_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/test-plugins")
