# Issue 9's benchmarks: webhook ingest (durable before 202) and the loop's
# responsiveness (/healthz) during a big file drop and an AW35 render.  The
# smoke tests run them small so they cannot rot; no time is asserted.
add_executable(http_load bench/http_load.c)
target_link_libraries(http_load PRIVATE PkgConfig::CRYPTO)
add_executable(sqlite_rows bench/sqlite_rows.c)
target_link_libraries(sqlite_rows PRIVATE PkgConfig::SQLITE)
zv_add_script_test(bench/webhook_bench_smoke ${CMAKE_CURRENT_SOURCE_DIR}/bench/webhook_bench
                   TIMEOUT 300)
set_property(TEST bench/webhook_bench_smoke PROPERTY
             ENVIRONMENT "${ZV_TEST_ENV};ZV_BENCH_ARGS=--requests 300 --conns 8 --build ${CMAKE_BINARY_DIR}")
zv_add_script_test(bench/loop_bench_smoke ${CMAKE_CURRENT_SOURCE_DIR}/bench/loop_bench
                   TIMEOUT 600)
set_property(TEST bench/loop_bench_smoke PROPERTY
             ENVIRONMENT "${ZV_TEST_ENV};ZV_BENCH_ARGS=--clients 300 --build ${CMAKE_BINARY_DIR}")
