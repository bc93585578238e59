# signals area: fmt_signals unit test (on the testbed)
# and the payload checks (JSON Schema, recovery attack on suppressed cells).
if(TARGET test_signals_fmt)
  zv_use_testbed(test_signals_fmt)
endif()
zv_add_script_test(signals/payload ${CMAKE_CURRENT_SOURCE_DIR}/integration/signals_payload.sh)
