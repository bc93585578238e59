# Sources area: mapping, the webhook / filedrop / fhir source plugins, their
# fixtures (ECD and FHIR servers, requests to the testbed's listener; the
# plugins run on the testbed, tests/testbed/zvtb_src.h), the demo data
# generator and the mapping benchmark.
add_library(zv_src_fixture STATIC ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/testhost/fixture.c)
target_link_libraries(zv_src_fixture PUBLIC zvtb PkgConfig::EVENT PkgConfig::CURL PkgConfig::CRYPTO)
target_include_directories(zv_src_fixture PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/testhost)

set(ZV_SOURCE_PLUGINS)
foreach(p in_filedrop in_webhook in_fhir)
  if(TARGET ${p})
    list(APPEND ZV_SOURCE_PLUGINS ${p})
  endif()
endforeach()

file(GLOB ZV_SOURCE_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_source_*.c)
foreach(src ${ZV_SOURCE_TESTS})
  get_filename_component(name ${src} NAME_WE)
  target_link_libraries(${name} PRIVATE zv_src_fixture)
  if(ZV_SOURCE_PLUGINS)
    add_dependencies(${name} ${ZV_SOURCE_PLUGINS})
  endif()
  set_tests_properties(unit/${name} PROPERTIES ENVIRONMENT
    "${ZV_TEST_ENV};ZV_ECD_FIXTURE=${CMAKE_CURRENT_SOURCE_DIR}/fixtures/ecd")
endforeach()

# Benchmark: built, not registered as a test; prints its figures.
add_executable(sources_mapping_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/sources_mapping_bench.c)
target_link_libraries(sources_mapping_bench PRIVATE zvcore)
target_compile_definitions(sources_mapping_bench PRIVATE ZV_SRC_DIR="${CMAKE_SOURCE_DIR}")

# Through the real daemon and store.
zv_add_script_test(sources_filedrop ${CMAKE_CURRENT_SOURCE_DIR}/integration/sources_filedrop.sh)
zv_add_script_test(sources_webhook ${CMAKE_CURRENT_SOURCE_DIR}/integration/sources_webhook.sh)
zv_add_script_test(sources_fhir ${CMAKE_CURRENT_SOURCE_DIR}/integration/sources_fhir.sh)
zv_add_script_test(sources_webhook_mtls ${CMAKE_CURRENT_SOURCE_DIR}/integration/sources_webhook_mtls.sh)

zv_add_script_test(sources_fhir_nl ${CMAKE_CURRENT_SOURCE_DIR}/integration/sources_fhir_nl.sh)

# FHIR benchmark: the fhir source's flattener and the bundled nl-core mapping.
add_executable(fhir_mapping_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/fhir_mapping_bench.c
               ${CMAKE_SOURCE_DIR}/plugins/in_fhir/fhir_flat.c)
target_include_directories(fhir_mapping_bench PRIVATE ${CMAKE_SOURCE_DIR}/plugins/in_fhir)
target_link_libraries(fhir_mapping_bench PRIVATE zvcore)
target_compile_definitions(fhir_mapping_bench PRIVATE ZV_SRC_DIR="${CMAKE_SOURCE_DIR}")
