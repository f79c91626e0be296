# cmake --install: the package a separate project uses.
#
#   find_package(weir CONFIG REQUIRED)           # lib/cmake/weir/weirConfig.cmake
#   target_link_libraries(app PRIVATE weir::weir)
#
#   c++ -std=c++20 $(pkg-config --cflags weir) app.cpp $(pkg-config --libs --static weir)
#
# The module CMakeLists.txt install the static libraries (into the export set
# weir-targets) and their public headers (include/weir/<module>/); this file
# installs the export set, the package configuration and weir.pc.
# tests/install/run.sh checks the installed tree with a consumer project.
include(CMakePackageConfigHelpers)

set(WEIR_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/weir)

# Exported names: weir::weir (the API), weir::actors, weir::io,
# weir::checkpoint, weir::operators, weir::common, weir::api_options (the
# option and result types), weir::options (C++20,
# include root, sanitizer flags).
set_target_properties(weir_options PROPERTIES EXPORT_NAME options)
set_target_properties(weir_actors PROPERTIES EXPORT_NAME actors)
set_target_properties(weir_io PROPERTIES EXPORT_NAME io)
set_target_properties(weir_checkpoint PROPERTIES EXPORT_NAME checkpoint)
set_target_properties(weir_operators PROPERTIES EXPORT_NAME operators)
set_target_properties(weir_common PROPERTIES EXPORT_NAME common)
set_target_properties(weir_api_options PROPERTIES EXPORT_NAME api_options)
install(TARGETS weir_options EXPORT weir-targets)
install(EXPORT weir-targets NAMESPACE weir:: FILE weirTargets.cmake DESTINATION ${WEIR_INSTALL_CMAKEDIR})

# The static libraries link CAF, simdjson, xxHash and Threads privately; the
# package configuration finds them again (CAF 0.17 has no CMake package: it
# recreates caf::core the way cmake/WeirDependencies.cmake does).
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/weirConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/weirConfig.cmake INSTALL_DESTINATION ${WEIR_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/weirConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weirConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/weirConfigVersion.cmake
  DESTINATION ${WEIR_INSTALL_CMAKEDIR})

# weir.pc, relocatable: the prefix is found from the file's own place
# (${pcfiledir}), so `cmake --install --prefix P` needs no reconfiguration.
file(RELATIVE_PATH WEIR_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" WEIR_PC_TO_PREFIX "${WEIR_PC_TO_PREFIX}")
set(WEIR_PC_LIBS "-lweir -lweir_actors -lweir_checkpoint -lweir_io -lweir_operators -lweir_common")
# The dependencies, in link order. A CAF other than the system's (WEIR_CAF_ROOT,
# e.g. the TSan build) is named by path, with an rpath, as the libraries need it.
set(WEIR_PC_DEPS "-lcaf_core -lsimdjson -lxxhash -lzstd -lrdkafka -lre2 -lpq -pthread")
if(WEIR_CAF_ROOT)
  get_filename_component(_weir_caf_libdir ${CAF_CORE_LIBRARY} DIRECTORY)
  set(WEIR_PC_DEPS "-L${_weir_caf_libdir} -Wl,-rpath,${_weir_caf_libdir} ${WEIR_PC_DEPS}")
endif()
# Sanitizer builds: programs linking the instrumented libraries need the same flags.
list(JOIN WEIR_SANITIZER_COMPILE_FLAGS " " WEIR_PC_CFLAGS)
list(JOIN WEIR_SANITIZER_LINK_FLAGS " " WEIR_PC_LDFLAGS)
get_target_property(_weir_type weir TYPE)
if(_weir_type STREQUAL "STATIC_LIBRARY")
  # Static libraries (the default): every program needs the dependencies,
  # with or without --static.
  set(WEIR_PC_LIBS "${WEIR_PC_LIBS} ${WEIR_PC_DEPS}")
  set(WEIR_PC_LIBS_PRIVATE "")
else()
  set(WEIR_PC_LIBS_PRIVATE "${WEIR_PC_DEPS}")
endif()
string(STRIP "-I\${includedir} ${WEIR_PC_CFLAGS}" WEIR_PC_CFLAGS)
string(STRIP "-L\${libdir} ${WEIR_PC_LIBS} ${WEIR_PC_LDFLAGS}" WEIR_PC_LIBS)
configure_file(${CMAKE_CURRENT_LIST_DIR}/weir.pc.in ${CMAKE_CURRENT_BINARY_DIR}/weir.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weir.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
