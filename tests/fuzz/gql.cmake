# GraphQL documents: the Leveringsregister's own parser and normaliser.
zv_add_fuzz(gql SOURCES ${CMAKE_SOURCE_DIR}/plugins/fmt_lvr/gql.c
            ${CMAKE_SOURCE_DIR}/plugins/fmt_lvr/gql_print.c
            INCLUDES ${CMAKE_SOURCE_DIR}/plugins/fmt_lvr)
