# signals area: fmt_signals unit test (on the testbed)
# and the payload checks (JSON Schema, recovery attack on suppressed cells).
if(TARGET test_signals_fmt)
  zv_use_testbed(test_signals_fmt)
endif()
zv_add_script_test(signals/payload ${CMAKE_CURRENT_SOURCE_DIR}/integration/signals_payload.sh)
zv_add_script_test(signals/report ${CMAKE_CURRENT_SOURCE_DIR}/integration/signals_report.sh
                   SKIP_RETURN_CODE 77 TIMEOUT 600)
# The PDF print of a report runs off the loop: /healthz answers meanwhile.
zv_add_script_test(signals/pdf_off_loop ${CMAKE_CURRENT_SOURCE_DIR}/integration/signals_pdf_worker.sh
                   SKIP_RETURN_CODE 77 TIMEOUT 600)
# Benchmark (issue 16): mapping + minimising with and without counting.
add_executable(signals_bench bench/signals_bench.c)
target_link_libraries(signals_bench PRIVATE zvcore ${CMAKE_DL_LIBS})
zv_use_testbed(signals_bench)
target_compile_definitions(signals_bench PRIVATE ZV_SRC_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(signals_bench fmt_signals)
# A tiny run: that it works end to end (every record mapped and counted), no timing asserted.
add_test(NAME bench/signals_smoke COMMAND signals_bench 20000)
set_tests_properties(bench/signals_smoke PROPERTIES ENVIRONMENT "${ZV_TEST_ENV}")
# The same requirement on the real daemon (zinvold --once with and without a
# signals destination); a small run: that it works, no timing asserted.
add_test(NAME bench/signals_daemon_smoke
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bench/signals_daemon_bench --rows 2000
                 --build ${CMAKE_BINARY_DIR})
set_tests_properties(bench/signals_daemon_smoke PROPERTIES ENVIRONMENT "${ZV_TEST_ENV}" TIMEOUT 300)
# Restart safety of the aggregate path: SIGKILLed while counting, run again.
zv_add_script_test(signals/crash ${CMAKE_CURRENT_SOURCE_DIR}/integration/signals_crash.sh TIMEOUT 600)
# The bundled catalogue lists every field the bundled signal sets read.
add_test(NAME signals/catalogue
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/signals_catalogue.py
                 ${CMAKE_SOURCE_DIR})
