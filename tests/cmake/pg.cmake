# The PostgreSQL store (issue 17).  pg/cluster_start initdb's a temporary
# cluster (Unix socket only) that every test labelled `pg` shares, each in a
# database of its own; pg/cluster_stop removes it.  Without PostgreSQL's
# server binaries the pg tests skip (exit 77) and say why.
set(ZV_PG_STATE ${CMAKE_BINARY_DIR}/pg-cluster)
add_test(NAME pg/cluster_start
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/pg_cluster.sh start ${ZV_PG_STATE})
set_tests_properties(pg/cluster_start PROPERTIES FIXTURES_SETUP zv_pg LABELS pg TIMEOUT 120)
add_test(NAME pg/cluster_stop
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/pg_cluster.sh stop ${ZV_PG_STATE})
set_tests_properties(pg/cluster_stop PROPERTIES FIXTURES_CLEANUP zv_pg LABELS pg TIMEOUT 60)

# A test that needs the cluster: COMMAND runs through run_pg.sh.
function(zv_add_pg_test name)
  add_test(NAME ${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/run_pg.sh ${ZV_PG_STATE}
           ${ARGN})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ZV_TEST_ENV}" FIXTURES_REQUIRED zv_pg
                       LABELS pg SKIP_RETURN_CODE 77 TIMEOUT 600)
endfunction()

# The store interface's cases: on SQLite always, on PostgreSQL with three
# processes claiming and appending at once.
add_executable(store_backends ${CMAKE_CURRENT_SOURCE_DIR}/pg/store_backends.c)
target_link_libraries(store_backends PRIVATE zvcore)
add_test(NAME store/backends_sqlite COMMAND store_backends sqlite)
set_tests_properties(store/backends_sqlite PROPERTIES ENVIRONMENT "${ZV_TEST_ENV}")
zv_add_pg_test(pg/store_backends $<TARGET_FILE:store_backends> postgresql)

# zinvolctl store copy --to URL of a store the real zinvold made (a build
# with ZV_POSTGRESQL=OFF has no PostgreSQL store to copy into).
if(ZV_POSTGRESQL)
  zv_add_pg_test(pg/store_copy bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/store_copy.sh)
  # SQLite -> PostgreSQL -> SQLite (store copy --to, then --from): every
  # table equal, the result's chain intact.
  zv_add_pg_test(pg/store_roundtrip bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/store_roundtrip.sh)
  # Three zinvold nodes on one database, one SIGKILLed every few seconds,
  # while 10,000 payloads drain: none lost, repeats identical, one chain.
  zv_add_pg_test(pg/chaos bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/chaos.sh)
  # An outcome commit the server refused: the rows come back through the
  # lease while the node lives (it renews only what it still works on).
  zv_add_pg_test(pg/lease_stuck bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/lease_stuck.sh)
  # A circuit one node opened holds for the others.
  zv_add_pg_test(pg/circuit bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/circuit.sh)
  # The node reading the drop folder is SIGKILLed mid-file; another takes
  # the source's lease over and finishes it: every row once, file in done/.
  zv_add_pg_test(pg/source_failover bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/source_failover.sh)
  # FHIR under the same lease: the standby polls nothing, then takes over.
  zv_add_pg_test(pg/source_lease_fhir bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/source_lease_fhir.sh)
  zv_add_pg_test(pg/source_lease_lost bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/source_lease_lost.sh)
  # Quarantine entries one node made, retried and dropped by another node's
  # admin API and by zinvolctl on the URL: each closed once, audited.
  zv_add_pg_test(pg/quarantine_nodes bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/quarantine_nodes.sh)
  # Webhooks on two nodes: de-duplicated by event id across them.
  zv_add_pg_test(pg/webhook_two_nodes bash ${CMAKE_CURRENT_SOURCE_DIR}/pg/webhook_two_nodes.sh)
endif()

# The backends side by side (tests/bench/store_backends_bench.sh prints the
# figures); the smoke test runs it small so it cannot rot, no time asserted.
add_executable(store_backends_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/store_backends_bench.c)
target_link_libraries(store_backends_bench PRIVATE zvcore)
if(ZV_POSTGRESQL)
  zv_add_script_test(bench/store_backends_smoke
                     ${CMAKE_CURRENT_SOURCE_DIR}/bench/store_backends_bench.sh TIMEOUT 300
                     SKIP_RETURN_CODE 77 LABELS pg)
  set_property(TEST bench/store_backends_smoke PROPERTY
               ENVIRONMENT "${ZV_TEST_ENV};ZV_BENCH_ARGS=--rows 200 --batches 50")
endif()
