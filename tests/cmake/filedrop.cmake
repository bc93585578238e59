# The filedrop source against hostile drops, through the real daemon.
zv_add_script_test(sources_filedrop_hostile
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/sources_filedrop_hostile.sh TIMEOUT 300)
