// weir — built-in DSL functions: numbers and conversions (int, float, abs, round, floor, ceil,
// sqrt, min, max, sum).
// Contracts: docs/DSL.md ("Functions"); each row of the table at the end is
// one function (name, argument counts, implementation, signature).
#include <charconv>
#include <cmath>
#include <limits>

#include "weir/operators/reducer.hpp"

#include "weir/cli/detail/functions.hpp"

namespace weir::dsl::detail {

namespace {

value fn_int(std::span<const value> a, const node& site) {
  const value& v = a[0];
  switch (v.type()) {
    case kind::null: return v;
    case kind::integer: return v;
    case kind::boolean: return value(v.as_bool() ? 1 : 0);
    case kind::real: {
      double d = std::trunc(v.as_real());
      if (!std::isfinite(d) || d < -9.2233720368547758e18 || d >= 9.2233720368547758e18)
        site.fail(fmt::format("int() cannot convert {} to an int", v.to_text()));
      return value(static_cast<std::int64_t>(d));
    }
    case kind::string: {
      std::string_view s = v.as_string();
      while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
      while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
      if (!s.empty() && s.front() == '+') s.remove_prefix(1);
      std::int64_t i = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), i);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
        site.fail(fmt::format("int() cannot parse {} as an int", v.to_json()));
      return value(i);
    }
    default: type_fail(site, "int", 1, 0, "a number, a string or a bool", v);
  }
}

value fn_float(std::span<const value> a, const node& site) {
  const value& v = a[0];
  switch (v.type()) {
    case kind::null: return v;
    case kind::integer: return value(static_cast<double>(v.as_int()));
    case kind::real: return v;
    case kind::boolean: return value(v.as_bool() ? 1.0 : 0.0);
    case kind::string: {
      std::string_view s = v.as_string();
      while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
      while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
      if (!s.empty() && s.front() == '+') s.remove_prefix(1);
      double d = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), d);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
        site.fail(fmt::format("float() cannot parse {} as a number", v.to_json()));
      return value(d);
    }
    default: type_fail(site, "float", 1, 0, "a number, a string or a bool", v);
  }
}

value fn_abs(std::span<const value> a, const node& site) {
  const value& v = want_number(a, 0, site, "abs");
  if (v.is_int()) {
    if (v.as_int() == std::numeric_limits<std::int64_t>::min()) site.fail("integer overflow in abs()");
    return value(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  return value(std::fabs(v.as_real()));
}

template <double (*F)(double)>
value rounding(std::span<const value> a, const node& site, std::string_view fname) {
  const value& v = want_number(a, 0, site, fname);
  if (v.is_int()) return v;
  double d = F(v.as_real());
  if (!std::isfinite(d) || d < -9.2233720368547758e18 || d >= 9.2233720368547758e18)
    site.fail(fmt::format("{}() cannot convert {} to an int", fname, v.to_text()));
  return value(static_cast<std::int64_t>(d));
}
double round_half_away(double d) { return std::round(d); }
double floor_d(double d) { return std::floor(d); }
double ceil_d(double d) { return std::ceil(d); }

value fn_round(std::span<const value> a, const node& site) { return rounding<round_half_away>(a, site, "round"); }
value fn_floor(std::span<const value> a, const node& site) { return rounding<floor_d>(a, site, "floor"); }
value fn_ceil(std::span<const value> a, const node& site) { return rounding<ceil_d>(a, site, "ceil"); }

value fn_sqrt(std::span<const value> a, const node& site) {
  return value(std::sqrt(want_number(a, 0, site, "sqrt").as_number()));
}

template <bool Min>
value extreme(std::span<const value> a, const node& site, std::string_view fname) {
  std::span<const value> items = a;
  if (a.size() == 1) {
    if (!a[0].is_array())
      site.fail(fmt::format("{}() of one argument expects an array, got {}", fname,
                            kind_name(a[0].type())));
    items = a[0].as_array();
    if (items.empty()) return value();
  }
  const value* best = &items[0];
  for (auto& x : items.subspan(1))
    if (Min ? (x < *best) : (x > *best)) best = &x;
  return *best;
}
value fn_min(std::span<const value> a, const node& site) { return extreme<true>(a, site, "min"); }
value fn_max(std::span<const value> a, const node& site) { return extreme<false>(a, site, "max"); }

value fn_sum(std::span<const value> a, const node& site) {
  auto items = want_array(a, 0, site, "sum");
  value acc(0);
  for (auto& x : items) {
    try {
      acc = weir::add(acc, x);
    } catch (const record_error& e) {
      site.fail(fmt::format("sum(): {}", e.what()));
    }
  }
  return acc;
}

constexpr builtin_function table[] = {
    {"abs", 1, 1, fn_abs, "abs(x)"},
    {"ceil", 1, 1, fn_ceil, "ceil(x)"},
    {"float", 1, 1, fn_float, "float(x)"},
    {"floor", 1, 1, fn_floor, "floor(x)"},
    {"int", 1, 1, fn_int, "int(x)"},
    {"max", 1, max_params, fn_max, "max(a, b, ...)"},
    {"min", 1, max_params, fn_min, "min(a, b, ...)"},
    {"round", 1, 1, fn_round, "round(x)"},
    {"sqrt", 1, 1, fn_sqrt, "sqrt(x)"},
    {"sum", 1, 1, fn_sum, "sum(array)"},
};

}  // namespace

std::span<const builtin_function> number_functions() { return table; }

}  // namespace weir::dsl::detail
