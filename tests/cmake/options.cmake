# The typed option system (include/zinvol/optmap.h): the engine, the core's
# tables and every plugin's, and the README option tables generated from them.
set_property(TEST unit/test_options APPEND PROPERTY ENVIRONMENT
             "ZV_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/test-plugins")
