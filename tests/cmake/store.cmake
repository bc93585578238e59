# store-delivery: backlog tool, benchmark, integration scripts.
add_executable(store_fill ${CMAKE_CURRENT_SOURCE_DIR}/bench/store_fill.c)
target_link_libraries(store_fill PRIVATE zvcore)

add_executable(store_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/store_bench.c)
target_include_directories(store_bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(store_bench PRIVATE zvcore)
zv_use_testbed(store_bench)

# The delivery tests create their transports on the testbed.
foreach(t test_delivery_engine test_delivery_transport)
  if(TARGET ${t})
    zv_use_testbed(${t})
  endif()
endforeach()

zv_add_script_test(integration/store_ctl ${CMAKE_CURRENT_SOURCE_DIR}/integration/store_ctl.sh
                   TIMEOUT 600)
zv_add_script_test(integration/store_delivery
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/store_delivery.sh TIMEOUT 600)
# 20 x SIGKILL on a 10,000-payload backlog, then a clean run: nothing lost.
zv_add_script_test(integration/store_crash ${CMAKE_CURRENT_SOURCE_DIR}/integration/store_crash.sh
                   TIMEOUT 1800)
# Another process holds the write lock: the loop goes on, the writer waits.
zv_add_script_test(integration/store_writer_lock
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/store_writer_lock.sh TIMEOUT 300)
