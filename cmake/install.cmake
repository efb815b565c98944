# install.cmake - installation, packaging and the library example (included at the end of
# CMakeLists.txt, after every target is defined).
#
#   cmake --install BUILD [--prefix DIR]      (DESTDIR=... is honoured)
#   cmake --build BUILD --target uninstall    (removes what install_manifest.txt lists)
#   cpack --config BUILD/CPackConfig.cmake -G DEB   (or: cd BUILD && cpack -G DEB)
#
# Layout (GNUInstallDirs; PREFIX = CMAKE_INSTALL_PREFIX):
#   bin/limpid                             the command-line tool (core linked statically)
#   LIBDIR/liblimpid.so.0.1.0, .so.0, .so  the core library, soname liblimpid.so.0
#   LIBDIR/liblimpid.a                     the core library, static
#   LIBDIR/pkgconfig/limpid.pc             relocatable: prefix = ${pcfiledir}/../..
#   include/limpid.h                       the public header
#   share/limpid/rt.lpm                    shipped models; `limpid denoise --model rt`
#                                          finds EXE_DIR/../share/limpid/rt.lpm
#   share/man/man1/limpid*.1.gz            man pages (docs/man/, compressed at build time)
#   share/bash-completion/completions/limpid
#   share/doc/limpid/examples/denoise_file.c
#   LIBDIR/lv2/limpid.lv2/                 the LV2 bundle, when the limpid_lv2 target exists
#
# The CLI looks for models in EXE_DIR/../share/limpid, so DATADIR must stay "share"
# relative to the prefix (the default) for the shipped-model lookup to work.

include(GNUInstallDirs)

# ---- example: a program that uses the installed library alone ---------------------------------
# Linked against the shared library, which exports only the LIMPID_API functions: the example
# cannot reach an internal symbol by accident. tests/test_install.sh builds the same source
# against an installed prefix with pkg-config.
option(LIMPID_BUILD_EXAMPLES "Build the example programs (need libsndfile)" ON)
if(LIMPID_BUILD_EXAMPLES)
  # its own prefix: a PkgConfig::SNDFILE made in another directory (the plugin's, when the
  # CLI is off) is not visible here, though SNDFILE_FOUND would say it was found
  pkg_check_modules(EXAMPLE_SNDFILE IMPORTED_TARGET sndfile)
  if(EXAMPLE_SNDFILE_FOUND)
    add_executable(example_denoise_file ${CMAKE_SOURCE_DIR}/examples/denoise_file.c)
    set_target_properties(example_denoise_file PROPERTIES OUTPUT_NAME denoise_file
      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/examples)
    target_link_libraries(example_denoise_file PRIVATE limpid_shared PkgConfig::EXAMPLE_SNDFILE)
  else()
    message(STATUS "libsndfile not found: the example programs are not built")
  endif()
endif()

# ---- man pages: gzip -9n at build time (Debian policy; man reads them either way) ---------------
file(GLOB LIMPID_MAN_PAGES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.1)
set(LIMPID_MAN_GZ "")
foreach(page ${LIMPID_MAN_PAGES})
  get_filename_component(name ${page} NAME)
  set(gz ${CMAKE_BINARY_DIR}/man/${name}.gz)
  # -n: no name or time stamp in the header, so the .gz is reproducible
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND gzip -9n -c ${page} > ${gz}
    DEPENDS ${page} VERBATIM)
  list(APPEND LIMPID_MAN_GZ ${gz})
endforeach()
add_custom_target(limpid_man ALL DEPENDS ${LIMPID_MAN_GZ})

# ---- pkg-config file --------------------------------------------------------------------------
# Relocatable: the prefix is found from the .pc file's own folder, so a prefix that is moved
# (or a .deb built with a different packaging prefix) still gives the right paths.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(LIMPID_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(LIMPID_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH _limpid_up "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" _limpid_up "${_limpid_up}")
  set(LIMPID_PC_PREFIX "\${pcfiledir}/${_limpid_up}")
  set(LIMPID_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(LIMPID_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(LIMPID_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# What a static link needs besides liblimpid.a (the shared library records it itself):
# fftw3f and openblas through Requires.private, OpenMP, threads and libm here.
set(LIMPID_PC_LIBS_PRIVATE "${OpenMP_C_FLAGS} ${CMAKE_THREAD_LIBS_INIT} -lm")
string(REGEX REPLACE "  +" " " LIMPID_PC_LIBS_PRIVATE "${LIMPID_PC_LIBS_PRIVATE}")
string(STRIP "${LIMPID_PC_LIBS_PRIVATE}" LIMPID_PC_LIBS_PRIVATE)
configure_file(${CMAKE_SOURCE_DIR}/cmake/limpid.pc.in ${CMAKE_BINARY_DIR}/limpid.pc @ONLY)

# ---- install rules ----------------------------------------------------------------------------
if(TARGET limpid)
  install(TARGETS limpid RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(TARGETS limpid_shared limpid_static
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_SOURCE_DIR}/core/include/limpid.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_BINARY_DIR}/limpid.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# Shipped models: models/NAME/NAME.lpm -> share/limpid/NAME.lpm (not the training checkpoints)
# CONFIGURE_DEPENDS: a model added to models/ is installed by the next build, no re-configure
file(GLOB LIMPID_SHIPPED_MODELS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/models/*/*.lpm)
foreach(m ${LIMPID_SHIPPED_MODELS})
  get_filename_component(dir ${m} DIRECTORY)
  get_filename_component(dir ${dir} NAME)
  get_filename_component(name ${m} NAME_WE)
  if(dir STREQUAL name)
    install(FILES ${m} DESTINATION ${CMAKE_INSTALL_DATADIR}/limpid)
  endif()
endforeach()
install(FILES ${LIMPID_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/cli/limpid.bash-completion
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME limpid)
install(FILES ${CMAKE_SOURCE_DIR}/examples/denoise_file.c
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
if(TARGET limpid_lv2)
  install(DIRECTORY ${CMAKE_BINARY_DIR}/limpid.lv2 DESTINATION ${CMAKE_INSTALL_LIBDIR}/lv2)
endif()

# ---- uninstall --------------------------------------------------------------------------------
if(NOT TARGET uninstall)
  add_custom_target(uninstall
    COMMAND ${CMAKE_COMMAND} -DMANIFEST=${CMAKE_BINARY_DIR}/install_manifest.txt
            -P ${CMAKE_SOURCE_DIR}/cmake/uninstall.cmake
    COMMENT "Removing the files listed in install_manifest.txt" VERBATIM)
endif()

# ---- Debian package (cpack -G DEB) ------------------------------------------------------------
set(LIMPID_DEB_MAINTAINER "limpid maintainers <maintainers@users.noreply.r-seed-db5f567a.example>"
  CACHE STRING "Maintainer field of the Debian package")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME limpid)
set(CPACK_PACKAGE_VENDOR "limpid")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${LIMPID_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "audio denoising with diffusion models (DDPM)")
set(CPACK_PACKAGE_DESCRIPTION
"limpid denoises audio files with denoising diffusion probabilistic models
(DDPMs) and trains its own models on folders of audio. This package holds the
limpid command-line tool (train, info, denoise, eval), the shipped real-time
denoising model, the core C library (shared and static), its header and
pkg-config file, man pages and bash completion.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${LIMPID_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION sound)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from dpkg-shlibdeps; a shlibs file for liblimpid.so.0 (and ldconfig triggers)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# Building against the library: limpid.pc names fftw3f and openblas (Requires.private)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "pkg-config, libfftw3-dev, libopenblas-dev")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/fuzz/out/" "\\\\.tmp-")
include(CPack)
