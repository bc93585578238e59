# The filedrop source against hostile drops, through the real daemon.
zv_add_script_test(sources_filedrop_hostile
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/sources_filedrop_hostile.sh TIMEOUT 300)
# The loop does not wait for the store writer while a file is read (issue 9).
zv_use_testbed(test_loop_stalls)
