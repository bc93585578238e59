# store-delivery: backlog tool, benchmark, integration scripts.
add_executable(store_fill ${CMAKE_CURRENT_SOURCE_DIR}/bench/store_fill.c)
target_link_libraries(store_fill PRIVATE zvcore)

add_executable(store_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/store_bench.c)
target_include_directories(store_bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(store_bench PRIVATE zvcore)

zv_add_script_test(integration/store_ctl ${CMAKE_CURRENT_SOURCE_DIR}/integration/store_ctl.sh
                   TIMEOUT 600)
