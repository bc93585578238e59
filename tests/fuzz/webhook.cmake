# Webhook: signature header parsing and body -> item, from the plugin's sources.
zv_add_fuzz(webhook SOURCES ${CMAKE_SOURCE_DIR}/plugins/in_webhook/webhook_sig.c
            INCLUDES ${CMAKE_SOURCE_DIR}/plugins/in_webhook LIBS PkgConfig::CRYPTO)
