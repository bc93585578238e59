# The testbed (tests/testbed/zvtb.h): plugin tests on the real core.  Its
# capture plugins are built into their own folder, never installed; a bed
# links them next to the build's plugins in its temporary plugin folder.
set(ZVTB_PLUGIN_DIR ${CMAKE_BINARY_DIR}/tests/testbed-plugins)

function(zvtb_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY ${ZVTB_PLUGIN_DIR})
  target_link_libraries(${name} PRIVATE zvutil)
  if(NOT ZV_FUZZ)
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
endfunction()
zvtb_add_plugin(out_tbcap ${CMAKE_CURRENT_SOURCE_DIR}/testbed/plugins/out_tbcap.c)
zvtb_add_plugin(in_tbcap ${CMAKE_CURRENT_SOURCE_DIR}/testbed/plugins/in_tbcap.c)
zvtb_add_plugin(fmt_tbcap ${CMAKE_CURRENT_SOURCE_DIR}/testbed/plugins/fmt_tbcap.c)

file(GLOB ZVTB_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/testbed/*.c)
add_library(zvtb STATIC ${ZVTB_SOURCES})
target_include_directories(zvtb PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/testbed)
target_link_libraries(zvtb PUBLIC zvcore)
target_compile_definitions(zvtb PRIVATE ZVTB_PLUGIN_DIR="${ZVTB_PLUGIN_DIR}"
                           ZVTB_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(zvtb out_tbcap in_tbcap fmt_tbcap)
foreach(p fmt_ijw fmt_iwlz fmt_json fmt_signals in_fhir in_filedrop in_webhook out_filedrop out_http)
  if(TARGET ${p})
    add_dependencies(zvtb ${p})
  endif()
endforeach()

# A test program on the testbed.
function(zv_use_testbed target)
  target_link_libraries(${target} PRIVATE zvtb)
endfunction()
