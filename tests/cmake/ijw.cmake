# ijw-json area: fmt_ijw and fmt_json tests.  The unit test programs are
# created by tests/CMakeLists.txt (glob); here they go on the testbed.
foreach(t test_json_fmt_render test_ijw_render test_ijw_rules test_ijw_catalogue test_ijw_types
         test_ijw_xsd)
  if(TARGET ${t})
    zv_use_testbed(${t})
  endif()
endforeach()

zv_add_script_test(ijw/json_schema ${CMAKE_CURRENT_SOURCE_DIR}/integration/ijw_json_schema.sh)
# Needs the iJw/iWmo XSDs in ../shared (tests only); exits 77 without them.
if(TEST unit/test_ijw_xsd)
  set_tests_properties(unit/test_ijw_xsd PROPERTIES SKIP_RETURN_CODE 77)
endif()
zv_add_script_test(ijw/demo_xsd ${CMAKE_CURRENT_SOURCE_DIR}/integration/ijw_demo_xsd.sh
  SKIP_RETURN_CODE 77)

# Benchmark, built but not registered: time per record at 10k..200k.
add_executable(ijw_render_bench bench/ijw_render_bench.c)
target_link_libraries(ijw_render_bench PRIVATE zvutil ${CMAKE_DL_LIBS})
add_dependencies(ijw_render_bench fmt_ijw)
