# Record lifecycle (issue 12): change detection on what would be sent, and
# the audit trail taken from what the formats rendered.
zv_add_script_test(integration/change_detection
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/change_detection.sh TIMEOUT 180)
