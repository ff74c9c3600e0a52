# web/static.cmake: the web console's pages (web/static/: HTML, CSS, JavaScript modules, no
# build step) copied beside collab-web in the build tree (BUILD/web/static/, the gateway's
# default web.static_dir: the folder beside its binary) and installed beside it
# (bin/static/). Included once, from web/CMakeLists.txt or the top level; sets
# COLLAB_WEB_STATIC_DIR for the tests.
include(GNUInstallDirs)
file(GLOB COLLAB_WEB_STATIC_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/static/*)
set(COLLAB_WEB_STATIC_DIR ${CMAKE_BINARY_DIR}/web/static)
set(collab_web_static_out)
foreach(f ${COLLAB_WEB_STATIC_FILES})
  get_filename_component(n ${f} NAME)
  add_custom_command(OUTPUT ${COLLAB_WEB_STATIC_DIR}/${n}
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${COLLAB_WEB_STATIC_DIR}
                     COMMAND ${CMAKE_COMMAND} -E copy_if_different ${f} ${COLLAB_WEB_STATIC_DIR}/${n}
                     DEPENDS ${f} VERBATIM)
  list(APPEND collab_web_static_out ${COLLAB_WEB_STATIC_DIR}/${n})
endforeach()
add_custom_target(collab_web_static ALL DEPENDS ${collab_web_static_out})
install(FILES ${COLLAB_WEB_STATIC_FILES} DESTINATION ${CMAKE_INSTALL_BINDIR}/static)
