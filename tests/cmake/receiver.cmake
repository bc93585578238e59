# The C loopback receiver (tests/fixtures/receiver/http_receiver.c): answers
# after a delay on timers, with a concurrency limit of its own, and records
# what receiver.py records.  Used where throughput matters (benches, pg/chaos).
add_executable(http_receiver ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/receiver/http_receiver.c)
target_link_libraries(http_receiver PRIVATE PkgConfig::EVENT PkgConfig::CRYPTO)

add_executable(http_receiver_test
               ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/receiver/http_receiver_test.c)
target_link_libraries(http_receiver_test PRIVATE PkgConfig::CURL PkgConfig::CRYPTO)
add_test(NAME fixtures/http_receiver
         COMMAND http_receiver_test $<TARGET_FILE:http_receiver>)
set_tests_properties(fixtures/http_receiver PROPERTIES ENVIRONMENT "${ZV_TEST_ENV}" TIMEOUT 120)
