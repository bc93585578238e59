# File-drop readers (CSV, JSON lines, .json) from the plugin's own sources.
zv_add_fuzz(filedrop SOURCES ${CMAKE_SOURCE_DIR}/plugins/in_filedrop/filedrop_read.c
            ${CMAKE_SOURCE_DIR}/plugins/in_filedrop/filedrop_fs.c
            ${CMAKE_SOURCE_DIR}/plugins/in_filedrop/filedrop_text.c
            ${CMAKE_SOURCE_DIR}/plugins/in_filedrop/filedrop_opts.c
            INCLUDES ${CMAKE_SOURCE_DIR}/plugins/in_filedrop LIBS ${CSV_LIBRARY})
