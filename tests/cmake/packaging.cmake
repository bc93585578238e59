# Install layout, the generated systemd unit and the Debian package.
zv_add_script_test(packaging/layout ${CMAKE_CURRENT_SOURCE_DIR}/integration/packaging_layout.sh
                   LABELS "packaging" SKIP_RETURN_CODE 77)
# Builds the .deb (about a minute on two cores), runs lintian and the
# installed daemon in a clean root.
zv_add_script_test(packaging/deb ${CMAKE_CURRENT_SOURCE_DIR}/integration/packaging_deb.sh
                   LABELS packaging SKIP_RETURN_CODE 77 TIMEOUT 600)
# Nothing in it is built with the sanitizers: the sanitizer run skips it.
set_property(TEST packaging/deb APPEND PROPERTY LABELS nosanitize)
# -Werror only when ZV_WERROR is on (CI), never for a packager's default build.
zv_add_script_test(packaging/werror ${CMAKE_CURRENT_SOURCE_DIR}/integration/packaging_werror.sh
                   LABELS packaging)
# The exchange folders for an SFTP or portal-upload account (README).
zv_add_script_test(packaging/exchange ${CMAKE_CURRENT_SOURCE_DIR}/integration/packaging_exchange.sh
                   LABELS packaging SKIP_RETURN_CODE 77)
