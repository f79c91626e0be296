// weir — built-in DSL functions: arrays, objects and nulls (len, count, keys, values, coalesce).
// Contracts: docs/DSL.md ("Functions"); each row of the table at the end is
// one function (name, argument counts, implementation, signature).

#include "weir/cli/detail/functions.hpp"

namespace weir::dsl::detail {

namespace {

value fn_len(std::span<const value> a, const node& site) {
  const value& v = a[0];
  if (v.is_string()) return value(static_cast<std::int64_t>(v.as_string().size()));
  if (v.is_array()) return value(static_cast<std::int64_t>(v.as_array().size()));
  if (v.is_object()) return value(static_cast<std::int64_t>(v.as_object().size()));
  type_fail(site, "len", 1, 0, "a string, an array or an object", v);
}

value fn_count(std::span<const value> a, const node& site) {
  return value(static_cast<std::int64_t>(want_array(a, 0, site, "count").size()));
}

value fn_keys(std::span<const value> a, const node& site) {
  if (!a[0].is_object()) type_fail(site, "keys", 1, 0, "an object", a[0]);
  std::vector<value> out;
  out.reserve(a[0].as_object().size());
  for (auto& f : a[0].as_object()) out.push_back(f.name);
  return value::array(std::move(out));
}

value fn_values(std::span<const value> a, const node& site) {
  if (!a[0].is_object()) type_fail(site, "values", 1, 0, "an object", a[0]);
  std::vector<value> out;
  out.reserve(a[0].as_object().size());
  for (auto& f : a[0].as_object()) out.push_back(f.val);
  return value::array(std::move(out));
}

value fn_coalesce(std::span<const value> a, const node&) {
  for (auto& x : a)
    if (!x.is_null()) return x;
  return value();
}

constexpr builtin_function table[] = {
    {"coalesce", 1, max_params, fn_coalesce, "coalesce(a, b, ...)"},
    {"count", 1, 1, fn_count, "count(array)"},
    {"keys", 1, 1, fn_keys, "keys(object)"},
    {"len", 1, 1, fn_len, "len(x)"},
    {"values", 1, 1, fn_values, "values(object)"},
};

}  // namespace

std::span<const builtin_function> collection_functions() { return table; }

}  // namespace weir::dsl::detail
