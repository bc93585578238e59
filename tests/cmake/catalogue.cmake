# catalogue-audit area: catalogue loader, minimiser, audit report.
# test_catalogue_payload renders through the real fmt_json plugin on the
# testbed (tests/testbed).
if(TARGET test_catalogue_payload)
  zv_use_testbed(test_catalogue_payload)
endif()
if(TARGET test_audit_collect)
  add_dependencies(test_audit_collect fmt_json fmt_ijw)
endif()

# The json report and the shipped catalogues validate against their JSON
# Schemas (python3-jsonschema; skipped with 77 when it is absent).
zv_add_script_test(catalogue/schemas
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/catalogue_schemas.sh
  SKIP_RETURN_CODE 77)
# The html report renders in headless Chromium (skipped with 77 without it).
zv_add_script_test(catalogue/html_screenshot
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/catalogue_html_screenshot.sh
  SKIP_RETURN_CODE 77 LABELS nosanitize)
# zinvolctl audit end to end on a scenario config and store.
zv_add_script_test(catalogue/audit_cli
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/catalogue_audit_cli.sh
  SKIP_RETURN_CODE 77)

# Per-client disclosure through the real daemon and zinvolctl.
# Per-client disclosure, flow-measured redundancy and the report in a real
# browser and as PDF, through the real daemon and zinvolctl.
zv_add_script_test(audit/disclose ${CMAKE_CURRENT_SOURCE_DIR}/integration/audit_disclose.sh
                   SKIP_RETURN_CODE 77)
