# Leveringsregister (plugins/fmt_leveringsregister): the GraphQL parser's unit test is
# built from the plugin's own sources.
if(TARGET test_lvr_gql)
  target_sources(test_lvr_gql PRIVATE ${CMAKE_SOURCE_DIR}/plugins/fmt_leveringsregister/gql.c
                 ${CMAKE_SOURCE_DIR}/plugins/fmt_leveringsregister/gql_print.c)
  target_include_directories(test_lvr_gql PRIVATE ${CMAKE_SOURCE_DIR}/plugins/fmt_leveringsregister)
endif()

# The netwerkmodel end to end: ECD -> register -> notification -> template
# queries through a local gateway (nID + PEP) -> SDL check -> audit trail.
zv_add_script_test(netwerkmodel/e2e ${CMAKE_CURRENT_SOURCE_DIR}/integration/netwerkmodel.sh
                   SKIP_RETURN_CODE 77 TIMEOUT 300)

# The register's store, update rules, executor and notifications.
if(TARGET test_lvr_register)
  foreach(f lvr_release.c lvr_db.c lvr_update.c lvr_assign.c lvr_notify.c lvr_exec.c gql.c gql_print.c)
    target_sources(test_lvr_register PRIVATE ${CMAKE_SOURCE_DIR}/plugins/fmt_leveringsregister/${f})
  endforeach()
  target_include_directories(test_lvr_register PRIVATE ${CMAKE_SOURCE_DIR}/plugins/fmt_leveringsregister)
  target_link_libraries(test_lvr_register PRIVATE zv_netwerkmodel)
endif()

# The netwerkmodel plugins' shared helper (claims, scopes, error body, ids).
if(TARGET test_nm_common)
  target_link_libraries(test_nm_common PRIVATE zv_netwerkmodel)
endif()

# The transport's access token when the authorisation server fails.
zv_add_script_test(netwerkmodel/token ${CMAKE_CURRENT_SOURCE_DIR}/integration/netwerkmodel_token.sh
                   SKIP_RETURN_CODE 77 TIMEOUT 300)

# "Sent versus asked" in zinvolctl audit, from a real run through the gateway.
zv_add_script_test(netwerkmodel/audit ${CMAKE_CURRENT_SOURCE_DIR}/integration/netwerkmodel_audit.sh
                   SKIP_RETURN_CODE 77 TIMEOUT 300)

# Notifications in: a zorgkantoor's zendNotificatie -> QBR-0001-ZA on the
# Bemiddelingsregister (the gateway) -> an entitlement record.
zv_add_script_test(netwerkmodel/notify ${CMAKE_CURRENT_SOURCE_DIR}/integration/netwerkmodel_notify.sh
                   SKIP_RETURN_CODE 77 TIMEOUT 300)

# Deliveries refer to the bemiddelingspecificatie the zorgkantoor assigned:
# notification in -> entitlement record -> ECD delivery -> the register's
# Levering and notification carry the assigned id; a mismatch is quarantined.
zv_add_script_test(netwerkmodel/assigned ${CMAKE_CURRENT_SOURCE_DIR}/integration/netwerkmodel_assigned.sh
                   SKIP_RETURN_CODE 77 TIMEOUT 300)

# The register and the outbox are two files: a SIGKILL between their commits
# loses no notification (the register keeps them, lvr_emitted.c).
zv_add_script_test(netwerkmodel/crash ${CMAKE_CURRENT_SOURCE_DIR}/integration/netwerkmodel_crash.sh
                   SKIP_RETURN_CODE 77 TIMEOUT 300)

# The plugins' TLS listener keeps http.limits' connection bounds
# (max_connections, request_timeout) like the plain listener.
zv_add_script_test(integration/https_limits ${CMAKE_CURRENT_SOURCE_DIR}/integration/https_limits.sh
                   SKIP_RETURN_CODE 77 TIMEOUT 120)
