# The fhir source's flattener with the mapping's selectors (fuzz_fhir.c).
zv_add_fuzz(fhir SOURCES ${CMAKE_SOURCE_DIR}/plugins/in_fhir/fhir_flat.c
            INCLUDES ${CMAKE_SOURCE_DIR}/plugins/in_fhir)
