# signals area: fmt_signals unit test (shared test host, plugin dependency)
# and the payload checks (JSON Schema, recovery attack on suppressed cells).
if(TARGET test_signals_fmt)
  target_sources(test_signals_fmt PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/ijw/zv_test_host.c)
  add_dependencies(test_signals_fmt fmt_signals)
endif()
zv_add_script_test(signals/payload ${CMAKE_CURRENT_SOURCE_DIR}/integration/signals_payload.sh)
