# Hostile input (issue 10): the real zinvold against wrong-typed configs,
# abusive HTTP clients and outside text in logs.
zv_add_script_test(integration/hostile_config
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/hostile_config.sh TIMEOUT 120)
zv_add_script_test(integration/hostile_http
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/hostile_http.sh TIMEOUT 180)
zv_add_script_test(integration/hostile_modes
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/hostile_modes.sh TIMEOUT 120)
zv_add_script_test(integration/hostile_webhook
                   ${CMAKE_CURRENT_SOURCE_DIR}/integration/hostile_webhook.sh TIMEOUT 120)
