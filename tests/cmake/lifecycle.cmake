# Record lifecycle (issue 12): change detection on what would be sent, and
# the audit trail taken from what the formats rendered.
zv_add_script_test(integration/change_detection
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/change_detection.sh TIMEOUT 180)
# Record lifecycle (issue 12): quarantine that can redo work, supersede,
# replay, records waiting for their day, retours from a folder; through the
# real zinvold and zinvolctl on a real store.
zv_add_script_test(lifecycle/quarantine
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/lifecycle_quarantine.sh SKIP_RETURN_CODE 77)
zv_add_script_test(lifecycle/due ${CMAKE_CURRENT_SOURCE_DIR}/integration/lifecycle_due.sh
  SKIP_RETURN_CODE 77)
zv_add_script_test(lifecycle/check_config
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/lifecycle_check_config.sh)
zv_add_script_test(lifecycle/retour_dir
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/lifecycle_retour_dir.sh SKIP_RETURN_CODE 77)
# The issue's story, every count asserted (steps that need change detection
# on rendered content are reported as not run until it is there).
zv_add_script_test(lifecycle/story ${CMAKE_CURRENT_SOURCE_DIR}/integration/lifecycle_story.sh
  SKIP_RETURN_CODE 77)
zv_add_script_test(integration/trail_truth
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/trail_truth.sh TIMEOUT 180)
