# iWlz format plugin: unit tests (tests/unit/test_iwlz_*.c, registered by the
# glob) load the built fmt_iwlz.so, so they depend on it; the benchmark is
# built but not registered.
foreach(t test_iwlz_render test_iwlz_rules test_iwlz_retour test_iwlz_catalogue)
  if(TARGET ${t})
    zv_use_testbed(${t})
    target_link_libraries(${t} PRIVATE PkgConfig::XSLT)
  endif()
endforeach()

# The pruned rule set against the whole one: compiled with the plugin's
# own rules_prune.c and xslt.c (internal functions, not in the ABI).
if(TARGET test_iwlz_prune)
  target_sources(test_iwlz_prune PRIVATE ${PROJECT_SOURCE_DIR}/plugins/fmt_iwlz/xslt.c
    ${PROJECT_SOURCE_DIR}/plugins/fmt_iwlz/rules_prune.c
    ${PROJECT_SOURCE_DIR}/plugins/fmt_iwlz/rules_rewrite.c ${PROJECT_SOURCE_DIR}/plugins/fmt_iwlz/xsd_graph.c
    ${PROJECT_SOURCE_DIR}/plugins/fmt_iwlz/rules_imports.c)
  target_link_libraries(test_iwlz_prune PRIVATE PkgConfig::XSLT PkgConfig::XML2 Threads::Threads)
endif()

add_executable(iwlz_render_bench bench/iwlz_render_bench.c)
target_link_libraries(iwlz_render_bench PRIVATE zvutil ${CMAKE_DL_LIBS})
add_dependencies(iwlz_render_bench fmt_iwlz)
# The official judge's cost per record by message size (prints figures).
add_executable(iwlz_judge_bench bench/iwlz_judge_bench.c
  ${PROJECT_SOURCE_DIR}/plugins/fmt_iwlz/xslt.c ${PROJECT_SOURCE_DIR}/plugins/fmt_iwlz/rules_prune.c
    ${PROJECT_SOURCE_DIR}/plugins/fmt_iwlz/rules_rewrite.c ${PROJECT_SOURCE_DIR}/plugins/fmt_iwlz/xsd_graph.c
    ${PROJECT_SOURCE_DIR}/plugins/fmt_iwlz/rules_imports.c)
target_link_libraries(iwlz_judge_bench PRIVATE zvutil PkgConfig::XSLT PkgConfig::XML2 Threads::Threads
  ${CMAKE_DL_LIBS})
add_dependencies(iwlz_judge_bench fmt_iwlz)

# The bundled release (XSDs, XSLT rule set) must stay identical to the official files.
zv_add_script_test(iwlz/schemas_unchanged ${CMAKE_CURRENT_SOURCE_DIR}/integration/iwlz_schemas.sh)

# A release directory is checked for completeness and consistency.
zv_add_script_test(iwlz/release_dir ${CMAKE_CURRENT_SOURCE_DIR}/integration/iwlz_release.sh)

# The scenario corpus through the daemon: 0 XSD and 0 official-rule errors.
zv_add_script_test(iwlz/corpus ${CMAKE_CURRENT_SOURCE_DIR}/integration/iwlz_corpus.sh)
zv_add_script_test(iwlz/rules_chunked ${CMAKE_CURRENT_SOURCE_DIR}/integration/iwlz_rules_chunked.sh)
