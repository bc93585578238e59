# zinvold --dry-run on the demo configuration and a generated export.
zv_add_script_test(integration/dry_run ${CMAKE_CURRENT_SOURCE_DIR}/integration/dry_run.sh)
