// weir — built-in DSL functions: arrays, objects and nulls (len, count, keys, values, coalesce),
// the higher-order array functions taking a lambda (transform, filter, exists: Spark SQL's), and
// sort, distinct, slice, flatten, index_of.
// Contracts: docs/DSL.md ("Functions"); each row of the table at the end is
// one function (name, argument counts, implementation, signature).
#include <algorithm>
#include <numeric>
#include <vector>

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

// ---- higher-order: the lambda is the last argument --------------------------

/// The array argument of a higher-order function; null stays null (Spark).
const value* array_or_null(std::span<const value> a, const node& site, std::string_view fname) {
  if (a[0].is_null()) return nullptr;
  if (!a[0].is_array()) type_fail(site, fname, 2, 0, "an array", a[0]);
  return &a[0];
}

/// The lambda's result where a bool is expected.
bool predicate(const value& r, const node& site, std::string_view fname) {
  if (!r.is_bool()) site.fail(fmt::format("the lambda of {}() must return a bool, got {}", fname, kind_name(r.type())));
  return r.as_bool();
}

value fn_transform(std::span<const value> a, const closure& fn, const node& site) {
  const value* arr = array_or_null(a, site, "transform");
  if (!arr) return value();
  auto items = arr->as_array();
  std::vector<value> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) out.push_back(fn(items[i], static_cast<std::int64_t>(i)));
  return value::array(std::move(out));
}

value fn_filter(std::span<const value> a, const closure& fn, const node& site) {
  const value* arr = array_or_null(a, site, "filter");
  if (!arr) return value();
  auto items = arr->as_array();
  std::vector<value> out;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (predicate(fn(items[i], static_cast<std::int64_t>(i)), site, "filter")) out.push_back(items[i]);
  return value::array(std::move(out));
}

value fn_exists(std::span<const value> a, const closure& fn, const node& site) {
  const value* arr = array_or_null(a, site, "exists");
  if (!arr) return value();
  for (auto& x : arr->as_array())
    if (predicate(fn(x), site, "exists")) return value(true);
  return value(false);
}

// ---- arrays ------------------------------------------------------------------

value fn_sort(std::span<const value> a, const node& site) {
  auto items = want_array(a, 0, site, "sort");
  bool ascending = true;
  if (a.size() > 1 && !a[1].is_null()) {
    if (!a[1].is_bool()) type_fail(site, "sort", a.size(), 1, "a bool (ascending)", a[1]);
    ascending = a[1].as_bool();
  }
  std::vector<value> out(items.begin(), items.end());
  if (ascending) std::stable_sort(out.begin(), out.end(), [](const value& x, const value& y) { return x < y; });
  else std::stable_sort(out.begin(), out.end(), [](const value& x, const value& y) { return y < x; });
  return value::array(std::move(out));
}

/// The first occurrence of each item, in order; items equal in value order
/// (`1 == 1.0`) are one item. O(n log n).
value fn_distinct(std::span<const value> a, const node& site) {
  auto items = want_array(a, 0, site, "distinct");
  std::vector<std::size_t> order(items.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return items[x] < items[y]; });
  std::vector<char> keep(items.size(), 0);
  for (std::size_t k = 0; k < order.size(); ++k)
    if (k == 0 || !(items[order[k - 1]] == items[order[k]])) keep[order[k]] = 1;
  std::vector<value> out;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (keep[i]) out.push_back(items[i]);
  return value::array(std::move(out));
}

value fn_slice(std::span<const value> a, const node& site) {
  auto items = want_array(a, 0, site, "slice");
  if (!a[1].is_int()) type_fail(site, "slice", a.size(), 1, "an int", a[1]);
  auto n = static_cast<std::int64_t>(items.size());
  std::int64_t start = a[1].as_int();
  if (start < 0) start += n;
  start = std::clamp<std::int64_t>(start, 0, n);
  std::int64_t len = n - start;
  if (a.size() == 3 && !a[2].is_null()) {
    if (!a[2].is_int()) type_fail(site, "slice", a.size(), 2, "an int", a[2]);
    len = std::clamp<std::int64_t>(a[2].as_int(), 0, n - start);
  }
  auto part = items.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(len));
  return value::array(std::vector<value>(part.begin(), part.end()));
}

value fn_flatten(std::span<const value> a, const node& site) {
  auto items = want_array(a, 0, site, "flatten");
  std::vector<value> out;
  for (auto& x : items) {
    if (x.is_null()) continue;
    if (!x.is_array())
      site.fail(fmt::format("flatten() expects an array of arrays, got {} in it", detail::kind_article(x.type())));
    auto inner = x.as_array();
    out.insert(out.end(), inner.begin(), inner.end());
  }
  return value::array(std::move(out));
}

value fn_index_of(std::span<const value> a, const node& site) {
  if (a[0].is_array()) {
    auto items = a[0].as_array();
    for (std::size_t i = 0; i < items.size(); ++i)
      if (items[i] == a[1]) return value(static_cast<std::int64_t>(i));
    return value(std::int64_t{-1});
  }
  if (!a[0].is_string()) type_fail(site, "index_of", 2, 0, "a string or an array", a[0]);
  std::size_t p = a[0].as_string().find(want_string(a, 1, site, "index_of"));
  return value(p == std::string_view::npos ? std::int64_t{-1} : static_cast<std::int64_t>(p));
}

constexpr builtin_function table[] = {
    {"coalesce", 1, max_params, fn_coalesce, "coalesce(a, b, ...)"},
    {"count", 1, 1, fn_count, "count(array)"},
    {"distinct", 1, 1, fn_distinct, "distinct(array)"},
    {.name = "exists", .min_args = 2, .max_args = 2, .call = nullptr, .signature = "exists(array, x => cond)",
     .lambda_params = 1, .call_lambda = fn_exists},
    {.name = "filter", .min_args = 2, .max_args = 2, .call = nullptr, .signature = "filter(array, x => cond)",
     .lambda_params = 2, .call_lambda = fn_filter},
    {"flatten", 1, 1, fn_flatten, "flatten(array)"},
    {"index_of", 2, 2, fn_index_of, "index_of(s_or_array, x)"},
    {"keys", 1, 1, fn_keys, "keys(object)"},
    {"len", 1, 1, fn_len, "len(x)"},
    {"slice", 2, 3, fn_slice, "slice(array, start, length)", "array,start,length"},
    {"sort", 1, 2, fn_sort, "sort(array, ascending)", "array,ascending"},
    {.name = "transform", .min_args = 2, .max_args = 2, .call = nullptr, .signature = "transform(array, x => e)",
     .lambda_params = 2, .call_lambda = fn_transform},
    {"values", 1, 1, fn_values, "values(object)"},
};

}  // namespace

std::span<const builtin_function> collection_functions() { return table; }

}  // namespace weir::dsl::detail
