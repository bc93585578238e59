# The typed option system (include/zinvol/optmap.h): the engine, the core's
# tables and every plugin's, and the README option tables generated from them.
set_property(TEST unit/test_options APPEND PROPERTY ENVIRONMENT
             "ZV_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/test-plugins")
# zinvold --describe, and the plugin READMEs' option tables are its output.
zv_add_script_test(options/describe ${CMAKE_CURRENT_SOURCE_DIR}/integration/options_describe.sh
                   TIMEOUT 60)
add_test(NAME options/readme_tables
         COMMAND bash ${CMAKE_SOURCE_DIR}/plugins/option-tables.sh --check
                 $<TARGET_FILE:zinvold> ${ZV_BUILD_PLUGIN_DIR})
