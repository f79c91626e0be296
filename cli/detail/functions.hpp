// weir — what the built-in function families share (not part of the public
// interface): the checks of argument types, with the messages
// "lower() expects a string, got int", and each family's table.
#pragma once

#include <span>
#include <string_view>

#include <fmt/format.h>

#include "weir/cli/detail/nodes.hpp"

namespace weir::dsl::detail {

/// "fname() expects EXPECTED[ as argument i+1], got KIND" at the call.
[[noreturn]] inline void type_fail(const node& site, std::string_view fname, std::size_t nargs, std::size_t i,
                                   std::string_view expected, const value& got) {
  if (nargs == 1) site.fail(fmt::format("{}() expects {}, got {}", fname, expected, kind_name(got.type())));
  site.fail(fmt::format("{}() expects {} as argument {}, got {}", fname, expected, i + 1, kind_name(got.type())));
}

inline std::string_view want_string(std::span<const value> a, std::size_t i, const node& site,
                                    std::string_view fname) {
  if (!a[i].is_string()) type_fail(site, fname, a.size(), i, "a string", a[i]);
  return a[i].as_string();
}

inline const value& want_number(std::span<const value> a, std::size_t i, const node& site,
                                std::string_view fname) {
  if (!a[i].is_number()) type_fail(site, fname, a.size(), i, "a number", a[i]);
  return a[i];
}

inline std::span<const value> want_array(std::span<const value> a, std::size_t i, const node& site,
                                         std::string_view fname) {
  if (!a[i].is_array()) type_fail(site, fname, a.size(), i, "an array", a[i]);
  return a[i].as_array();
}

/// ASCII whitespace.
inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/// The families of built-in functions, one file each in cli/functions/; the
/// registry (cli/functions.cpp) merges them in name order.
std::span<const builtin_function> string_functions();      ///< functions/strings.cpp
std::span<const builtin_function> number_functions();      ///< functions/numbers.cpp
std::span<const builtin_function> collection_functions();  ///< functions/collections.cpp
std::span<const builtin_function> time_functions();        ///< functions/time.cpp
std::span<const builtin_function> regex_functions();       ///< functions/regex.cpp

}  // namespace weir::dsl::detail
