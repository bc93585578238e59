# GraphQL documents: the Leveringsregister's own parser and normaliser.
zv_add_fuzz(gql SOURCES ${CMAKE_SOURCE_DIR}/plugins/fmt_leveringsregister/gql.c
            ${CMAKE_SOURCE_DIR}/plugins/fmt_leveringsregister/gql_print.c
            INCLUDES ${CMAKE_SOURCE_DIR}/plugins/fmt_leveringsregister)
