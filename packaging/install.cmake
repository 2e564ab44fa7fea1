# Installation and the Debian package (included from the top-level CMakeLists.txt).
#
#   cmake --install build [--prefix /usr]   keel-server in <prefix>/bin, keel.conf in /etc/keel,
#                                           the systemd units in <prefix>/lib/systemd/system,
#                                           the docs in <prefix>/share/doc/keel
#   cpack --config build/CPackConfig.cmake  keel_<version>_<arch>.deb (prefix /usr)
include(GNUInstallDirs)

set(KEEL_INSTALL_CONFDIR "/etc/keel" CACHE PATH "Where keel.conf is installed")

install(TARGETS keel-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/conf/keel.conf DESTINATION ${KEEL_INSTALL_CONFDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/LICENSE
              ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/configuration.md
              ${PROJECT_SOURCE_DIR}/docs/commands.md ${PROJECT_SOURCE_DIR}/docs/architecture.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The units name /usr/bin/keel-server; the installed copies name the binary where it was
# installed. The prefix is read at install time, so cpack's /usr is what the .deb's units say.
foreach(unit keel.service keel@.service)
  install(CODE "
    file(READ \"${PROJECT_SOURCE_DIR}/conf/${unit}\" text)
    string(REPLACE \"/usr/bin/keel-server\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/keel-server\" text \"\${text}\")
    set(dest \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
    file(MAKE_DIRECTORY \"\${dest}\")
    file(WRITE \"\${dest}/${unit}\" \"\${text}\")
    message(STATUS \"Installing: \${dest}/${unit}\")
  ")
endforeach()

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "keel")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Keel maintainers <keel@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Redis-compatible multi-threaded in-memory key-value server")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "database")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/postinst;${PROJECT_SOURCE_DIR}/packaging/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
