# ABI snapshot (include/zinvol/plugin.h against tests/abi/zv-abi-*.abi) and
# the target that records the baseline of the version plugin.h declares.
set(ZV_ABI_CHECK bash ${CMAKE_CURRENT_SOURCE_DIR}/abi/abi_check.sh ${CMAKE_C_COMPILER}
    ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/abi)
add_test(NAME abi/snapshot COMMAND ${ZV_ABI_CHECK})
set_tests_properties(abi/snapshot PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
add_custom_target(abi-baseline COMMAND ${ZV_ABI_CHECK} --write
                  COMMENT "Recording the plugin ABI layout in tests/abi" VERBATIM)
