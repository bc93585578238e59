# Fuzzing: one libFuzzer harness per parser of outside input (tests/fuzz/).
# Normal builds link each harness with a replay driver and run it over its
# checked-in corpus as a ctest test, so seeds and crash reproducers are
# checked by gcc and the sanitizer build on every run.  With -DZV_FUZZ=ON
# (clang) the harnesses are real libFuzzer binaries: tests/fuzz/run-fuzz.sh.
set(ZV_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
set(ZV_FUZZ_CORE json json_flat record config catalogue mapping item_json)

function(zv_add_fuzz name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS;INCLUDES" ${ARGN})
  if(ZV_FUZZ)
    add_executable(fuzz_${name} ${ZV_FUZZ_DIR}/fuzz_${name}.c ${F_SOURCES})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_${name} ${ZV_FUZZ_DIR}/fuzz_${name}.c ${ZV_FUZZ_DIR}/replay_main.c
                   ${F_SOURCES})
    add_test(NAME fuzz/${name} COMMAND fuzz_${name} ${ZV_FUZZ_DIR}/corpus/${name})
    set_tests_properties(fuzz/${name} PROPERTIES ENVIRONMENT "${ZV_TEST_ENV}")
  endif()
  target_include_directories(fuzz_${name} PRIVATE ${F_INCLUDES})
  target_link_libraries(fuzz_${name} PRIVATE zvcore ${F_LIBS})
endfunction()

foreach(h ${ZV_FUZZ_CORE})
  zv_add_fuzz(${h})
endforeach()

file(GLOB ZV_FUZZ_FRAGMENTS CONFIGURE_DEPENDS ${ZV_FUZZ_DIR}/*.cmake)
foreach(f ${ZV_FUZZ_FRAGMENTS})
  include(${f})
endforeach()

# One target that builds every harness (run-fuzz.sh builds only these).
get_property(ZV_ALL_TARGETS DIRECTORY PROPERTY BUILDSYSTEM_TARGETS)
set(ZV_FUZZ_TARGETS)
foreach(t ${ZV_ALL_TARGETS})
  if(t MATCHES "^fuzz_")
    list(APPEND ZV_FUZZ_TARGETS ${t})
  endif()
endforeach()
add_custom_target(zv_fuzz_all DEPENDS ${ZV_FUZZ_TARGETS})
