# Leveringsregister (plugins/fmt_lvr): the GraphQL parser's unit test is
# built from the plugin's own sources.
if(TARGET test_lvr_gql)
  target_sources(test_lvr_gql PRIVATE ${CMAKE_SOURCE_DIR}/plugins/fmt_lvr/gql.c
                 ${CMAKE_SOURCE_DIR}/plugins/fmt_lvr/gql_print.c)
  target_include_directories(test_lvr_gql PRIVATE ${CMAKE_SOURCE_DIR}/plugins/fmt_lvr)
endif()
