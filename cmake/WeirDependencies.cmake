# Dependencies, all from Debian 12 packages (see scripts/setup.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_package(mimalloc CONFIG REQUIRED)
find_package(CLI11 CONFIG QUIET)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
# zstd (Debian libzstd-dev): optional compression of checkpoint task files.
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# librdkafka's C API (Debian librdkafka-dev): the kafka() receiver and kafka_out() sink.
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
# RE2 (Debian libre2-dev): every regular expression (io/regex.hpp).
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)

# CAF 0.17.6 (libcaf-dev) ships no CMake config: define imported targets.
# WEIR_CAF_ROOT selects another build of the same version (scripts/caf-tsan.sh
# makes a ThreadSanitizer-instrumented one for WEIR_SANITIZER=thread).
set(WEIR_CAF_ROOT "" CACHE PATH "Prefix of a CAF 0.17 build to use instead of the system's")
if(WEIR_CAF_ROOT)
  find_path(CAF_INCLUDE_DIR caf/all.hpp PATHS ${WEIR_CAF_ROOT}/include NO_DEFAULT_PATH REQUIRED)
  find_library(CAF_CORE_LIBRARY caf_core PATHS ${WEIR_CAF_ROOT}/lib NO_DEFAULT_PATH REQUIRED)
  set(CAF_IO_LIBRARY ${CAF_CORE_LIBRARY})  # the instrumented build has no libcaf_io; weir does not use it
else()
  find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
  find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
  find_library(CAF_IO_LIBRARY caf_io REQUIRED)
endif()
if(NOT TARGET caf::core)
  add_library(caf::core UNKNOWN IMPORTED)
  set_target_properties(caf::core PROPERTIES
    IMPORTED_LOCATION ${CAF_CORE_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR}
    INTERFACE_LINK_LIBRARIES Threads::Threads)
  add_library(caf::io UNKNOWN IMPORTED)
  set_target_properties(caf::io PROPERTIES
    IMPORTED_LOCATION ${CAF_IO_LIBRARY}
    INTERFACE_LINK_LIBRARIES caf::core)
endif()

if(NOT TARGET CLI11::CLI11)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${CLI11_INCLUDE_DIR})
endif()

if(WEIR_BUILD_TESTS)
  find_package(Catch2 2 CONFIG REQUIRED)
  include(Catch)
endif()
