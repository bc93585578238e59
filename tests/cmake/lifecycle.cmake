# Record lifecycle (issue 12): change detection on what would be sent, and
# the audit trail taken from what the formats rendered.
zv_add_script_test(integration/change_detection
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/change_detection.sh TIMEOUT 180)
# Record lifecycle (issue 12): quarantine that can redo work, supersede,
# replay, records waiting for their day, retours from a folder; through the
# real zinvold and zinvolctl on a real store.
zv_add_script_test(lifecycle/quarantine
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/lifecycle_quarantine.sh SKIP_RETURN_CODE 77)
