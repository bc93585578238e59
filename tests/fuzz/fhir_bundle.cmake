# FHIR source: whole searchset Bundles through the flattener, and the
# Bundle's next links through the origin check (fuzz_fhir_bundle.c).
zv_add_fuzz(fhir_bundle SOURCES ${CMAKE_SOURCE_DIR}/plugins/in_fhir/fhir_flat.c
            ${CMAKE_SOURCE_DIR}/plugins/in_fhir/fhir_url.c
            INCLUDES ${CMAKE_SOURCE_DIR}/plugins/in_fhir)
