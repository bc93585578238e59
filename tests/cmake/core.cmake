# Core tests: plugin fixtures (built into build/test-plugins, not installed)
# and the daemon integration scripts.
set(ZV_TEST_PLUGIN_DIR ${CMAKE_BINARY_DIR}/test-plugins)
foreach(p good_transport wrong_abi abi1_plugin no_descriptor short_descriptor)
  add_library(out_${p} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/plugins/${p}.c)
  set_target_properties(out_${p} PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY ${ZV_TEST_PLUGIN_DIR})
  target_include_directories(out_${p} PRIVATE ${CMAKE_SOURCE_DIR}/include)
endforeach()
# A file with a plugin's name that is not a shared object at all.
file(WRITE ${ZV_TEST_PLUGIN_DIR}/out_notelf.so "this is not an ELF file\n")
set_property(TEST unit/test_core_plugins APPEND PROPERTY ENVIRONMENT
             "ZV_TEST_PLUGIN_DIR=${ZV_TEST_PLUGIN_DIR}")
set_property(TEST unit/test_core_config APPEND PROPERTY ENVIRONMENT
             "ZV_TEST_PLUGIN_DIR=${ZV_TEST_PLUGIN_DIR}")
zv_add_script_test(integration/core_daemon ${CMAKE_CURRENT_SOURCE_DIR}/integration/core_daemon.sh
                   TIMEOUT 120)
zv_add_script_test(integration/core_install ${CMAKE_CURRENT_SOURCE_DIR}/integration/core_install.sh
                   TIMEOUT 120)
# Admin API, metrics, health and the console (daemon/admin).
zv_add_script_test(integration/admin_api ${CMAKE_CURRENT_SOURCE_DIR}/integration/admin_api.sh
                   TIMEOUT 180 SKIP_RETURN_CODE 77)
zv_add_script_test(integration/admin_console
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/admin_console.sh
                   TIMEOUT 240 SKIP_RETURN_CODE 77)
