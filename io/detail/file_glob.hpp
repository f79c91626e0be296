// weir — internal: file(path) with a glob pattern. Not part of the public API.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "weir/io/source.hpp"

namespace weir::io::detail {

/// True if `path` contains a glob(7) metacharacter: `*`, `?` or `[`.
bool has_glob(std::string_view path) noexcept;

/// The files matching the glob(7) `pattern`, in byte order of their names,
/// directories skipped; a pattern that matches nothing but names an existing
/// file (a literal '[' or '*') is that file.
/// @errors pipeline_error "WHAT: cannot expand the pattern: …" or
///         "WHAT: no file matches the pattern", WHAT being `what`.
std::vector<std::string> expand_glob(const std::string& pattern, const std::string& what);

/// The lines of every file matching the glob(7) `pattern`, one file after the
/// other, in byte order of their names (directories skipped). The pattern is
/// expanded at open(); provenance is the current file's.
/// @errors open() throws pipeline_error "file(\"logs/*.log\"): no file matches
///         the pattern" or the first file's open error.
source_ptr make_glob_file_source(std::string pattern, std::size_t max_line_bytes);

/// One file (no glob expansion); defined in file_source.cpp.
source_ptr make_plain_file_source(std::string path, std::size_t max_line_bytes);

}  // namespace weir::io::detail
