// The DSL's built-in functions. See docs/DSL.md for their contracts.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "weir/cli/detail/nodes.hpp"
#include "weir/cli/expression.hpp"
#include "weir/operators/reducer.hpp"

namespace weir::dsl::detail {

std::string_view kind_article(kind k) {
  switch (k) {
    case kind::null: return "null";
    case kind::boolean: return "a bool";
    case kind::integer: return "an int";
    case kind::real: return "a double";
    case kind::string: return "a string";
    case kind::array: return "an array";
    case kind::object: return "an object";
  }
  return "?";
}

namespace {

[[noreturn]] void type_fail(const node& site, std::string_view fname, std::size_t nargs,
                            std::size_t i, std::string_view expected, const value& got) {
  if (nargs == 1)
    site.fail(fmt::format("{}() expects {}, got {}", fname, expected, kind_name(got.type())));
  site.fail(fmt::format("{}() expects {} as argument {}, got {}", fname, expected, i + 1,
                        kind_name(got.type())));
}

std::string_view want_string(std::span<const value> a, std::size_t i, const node& site,
                             std::string_view fname) {
  if (!a[i].is_string()) type_fail(site, fname, a.size(), i, "a string", a[i]);
  return a[i].as_string();
}

const value& want_number(std::span<const value> a, std::size_t i, const node& site,
                         std::string_view fname) {
  if (!a[i].is_number()) type_fail(site, fname, a.size(), i, "a number", a[i]);
  return a[i];
}

std::span<const value> want_array(std::span<const value> a, std::size_t i, const node& site,
                                  std::string_view fname) {
  if (!a[i].is_array()) type_fail(site, fname, a.size(), i, "an array", a[i]);
  return a[i].as_array();
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// ---- strings -------------------------------------------------------------

value fn_split(std::span<const value> a, const node& site) {
  std::string_view s = want_string(a, 0, site, "split");
  std::vector<value> out;
  if (a.size() == 1) {
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && is_space(s[i])) ++i;
      if (i >= s.size()) break;
      std::size_t j = i;
      while (j < s.size() && !is_space(s[j])) ++j;
      out.emplace_back(s.substr(i, j - i));
      i = j;
    }
    return value::array(std::move(out));
  }
  std::string_view sep = want_string(a, 1, site, "split");
  if (sep.empty()) site.fail("split() separator must not be empty");
  std::size_t start = 0;
  for (;;) {
    std::size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      break;
    }
    out.emplace_back(s.substr(start, p - start));
    start = p + sep.size();
  }
  return value::array(std::move(out));
}

template <char (*F)(char)>
value map_ascii(std::span<const value> a, const node& site, std::string_view fname) {
  std::string_view s = want_string(a, 0, site, fname);
  std::string r(s);
  for (auto& c : r) c = F(c);
  return value(r);
}
char to_lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
char to_upper_ascii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

value fn_lower(std::span<const value> a, const node& site) {
  return map_ascii<to_lower_ascii>(a, site, "lower");
}
value fn_upper(std::span<const value> a, const node& site) {
  return map_ascii<to_upper_ascii>(a, site, "upper");
}

value fn_trim(std::span<const value> a, const node& site) {
  std::string_view s = want_string(a, 0, site, "trim");
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return value(s);
}

value fn_len(std::span<const value> a, const node& site) {
  const value& v = a[0];
  if (v.is_string()) return value(static_cast<std::int64_t>(v.as_string().size()));
  if (v.is_array()) return value(static_cast<std::int64_t>(v.as_array().size()));
  if (v.is_object()) return value(static_cast<std::int64_t>(v.as_object().size()));
  type_fail(site, "len", 1, 0, "a string, an array or an object", v);
}

value fn_str(std::span<const value> a, const node&) {
  if (a[0].is_string()) return a[0];
  return value(a[0].to_text());
}

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

value fn_contains(std::span<const value> a, const node& site) {
  if (a[0].is_array()) {
    for (auto& x : a[0].as_array())
      if (x == a[1]) return value(true);
    return value(false);
  }
  if (a[0].is_object()) {
    std::string_view k = want_string(a, 1, site, "contains");
    return value(a[0].find(k) != nullptr);
  }
  if (!a[0].is_string()) type_fail(site, "contains", 2, 0, "a string, an array or an object", a[0]);
  return value(a[0].as_string().find(want_string(a, 1, site, "contains")) != std::string_view::npos);
}

value fn_starts_with(std::span<const value> a, const node& site) {
  return value(want_string(a, 0, site, "starts_with").starts_with(want_string(a, 1, site, "starts_with")));
}

value fn_ends_with(std::span<const value> a, const node& site) {
  return value(want_string(a, 0, site, "ends_with").ends_with(want_string(a, 1, site, "ends_with")));
}

value fn_replace(std::span<const value> a, const node& site) {
  std::string_view s = want_string(a, 0, site, "replace");
  std::string_view from = want_string(a, 1, site, "replace");
  std::string_view to = want_string(a, 2, site, "replace");
  if (from.empty()) site.fail("replace() pattern must not be empty");
  std::string out;
  std::size_t start = 0;
  for (;;) {
    std::size_t p = s.find(from, start);
    if (p == std::string_view::npos) break;
    out.append(s.substr(start, p - start));
    out.append(to);
    start = p + from.size();
  }
  out.append(s.substr(start));
  return value(out);
}

value fn_substr(std::span<const value> a, const node& site) {
  std::string_view s = want_string(a, 0, site, "substr");
  if (!a[1].is_int()) type_fail(site, "substr", a.size(), 1, "an int", a[1]);
  auto n = static_cast<std::int64_t>(s.size());
  std::int64_t start = a[1].as_int();
  if (start < 0) start += n;
  start = std::clamp<std::int64_t>(start, 0, n);
  std::int64_t len = n - start;
  if (a.size() == 3) {
    if (!a[2].is_int()) type_fail(site, "substr", a.size(), 2, "an int", a[2]);
    len = std::clamp<std::int64_t>(a[2].as_int(), 0, n - start);
  }
  return value(s.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(len)));
}

// ---- time ------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// Parses `s` with a strftime-style format: %Y %m %d %H %M %S %b (English
/// month abbreviation) %f (fraction of a second) %z (+hhmm, +hh:mm or Z) %%;
/// other characters must match. Returns ms since the epoch, or nullopt.
std::optional<std::int64_t> parse_time_format(std::string_view s, std::string_view f) {
  std::int64_t year = 1970;
  unsigned mon = 1, day = 1;
  std::int64_t hour = 0, min = 0, sec = 0, ms = 0, offset_s = 0;
  std::size_t i = 0;
  auto digits = [&](std::size_t maxn, std::int64_t& out) {
    std::size_t n = 0;
    std::int64_t v = 0;
    while (n < maxn && i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0'), ++n;
    out = v;
    return n > 0;
  };
  for (std::size_t k = 0; k < f.size(); ++k) {
    if (f[k] != '%' || k + 1 == f.size()) {
      if (i >= s.size() || s[i] != f[k]) return std::nullopt;
      ++i;
      continue;
    }
    std::int64_t v = 0;
    switch (f[++k]) {
      case 'Y': {
        bool neg = i < s.size() && s[i] == '-';
        if (neg) ++i;
        if (!digits(4, v)) return std::nullopt;
        year = neg ? -v : v;
        break;
      }
      case 'm': if (!digits(2, v) || v < 1 || v > 12) return std::nullopt; mon = static_cast<unsigned>(v); break;
      case 'd': if (!digits(2, v) || v < 1 || v > 31) return std::nullopt; day = static_cast<unsigned>(v); break;
      case 'H': if (!digits(2, v) || v > 23) return std::nullopt; hour = v; break;
      case 'M': if (!digits(2, v) || v > 59) return std::nullopt; min = v; break;
      case 'S': if (!digits(2, v) || v > 60) return std::nullopt; sec = v; break;
      case 'f': {
        std::size_t start = i;
        if (!digits(9, v)) return std::nullopt;
        std::size_t n = i - start;
        while (n < 3) v *= 10, ++n;
        while (n > 3) v /= 10, --n;
        ms = v;
        break;
      }
      case 'b': {
        static constexpr std::string_view names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        if (i + 3 > s.size()) return std::nullopt;
        unsigned m = 0;
        while (m < 12 && s.substr(i, 3) != names[m]) ++m;
        if (m == 12) return std::nullopt;
        mon = m + 1;
        i += 3;
        break;
      }
      case 'z': {
        if (i < s.size() && s[i] == 'Z') {
          ++i;
          break;
        }
        if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return std::nullopt;
        int sign = s[i++] == '-' ? -1 : 1;
        std::int64_t hh = 0, mm = 0;
        if (!digits(2, hh)) return std::nullopt;
        if (i < s.size() && s[i] == ':') ++i;
        if (!digits(2, mm)) return std::nullopt;
        offset_s = sign * (hh * 3600 + mm * 60);
        break;
      }
      case '%':
        if (i >= s.size() || s[i] != '%') return std::nullopt;
        ++i;
        break;
      default: return std::nullopt;
    }
  }
  if (i != s.size()) return std::nullopt;
  std::int64_t days = days_from_civil(year, mon, day);
  return ((days * 86400 + hour * 3600 + min * 60 + sec) - offset_s) * 1000 + ms;
}

value fn_parse_time(std::span<const value> a, const node& site) {
  std::string_view s = want_string(a, 0, site, "parse_time");
  if (a.size() == 1) {
    // ISO 8601: 2015-05-17T10:05:03Z, with optional .fff and ±hh:mm
    for (auto f : {"%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z",
                   "%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f",
                   "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"})
      if (auto t = parse_time_format(s, f)) return value(*t);
    site.fail(fmt::format("parse_time() cannot parse \"{}\" as an ISO 8601 time "
                          "(expected e.g. 2015-05-17T10:05:03Z); give a format", s));
  }
  std::string_view f = want_string(a, 1, site, "parse_time");
  if (auto t = parse_time_format(s, f)) return value(*t);
  site.fail(fmt::format("parse_time() cannot parse \"{}\" with format \"{}\"", s, f));
}

value fn_join(std::span<const value> a, const node& site) {
  auto items = want_array(a, 0, site, "join");
  std::string_view sep = a.size() > 1 ? want_string(a, 1, site, "join") : std::string_view{};
  std::string out;
  bool first = true;
  for (auto& x : items) {
    if (!first) out.append(sep);
    first = false;
    x.append_text(out);
  }
  return value(out);
}

// ---- numbers -------------------------------------------------------------

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

value fn_count(std::span<const value> a, const node& site) {
  return value(static_cast<std::int64_t>(want_array(a, 0, site, "count").size()));
}

// ---- objects and nulls ---------------------------------------------------

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
    {"abs", 1, 1, fn_abs, "abs(x)"},
    {"ceil", 1, 1, fn_ceil, "ceil(x)"},
    {"coalesce", 1, max_params, fn_coalesce, "coalesce(a, b, ...)"},
    {"contains", 2, 2, fn_contains, "contains(s, sub)"},
    {"count", 1, 1, fn_count, "count(array)"},
    {"ends_with", 2, 2, fn_ends_with, "ends_with(s, suffix)"},
    {"float", 1, 1, fn_float, "float(x)"},
    {"floor", 1, 1, fn_floor, "floor(x)"},
    {"int", 1, 1, fn_int, "int(x)"},
    {"join", 1, 2, fn_join, "join(array, sep)"},
    {"keys", 1, 1, fn_keys, "keys(object)"},
    {"len", 1, 1, fn_len, "len(x)"},
    {"lower", 1, 1, fn_lower, "lower(s)"},
    {"max", 1, max_params, fn_max, "max(a, b, ...)"},
    {"min", 1, max_params, fn_min, "min(a, b, ...)"},
    {"parse_time", 1, 2, fn_parse_time, "parse_time(s, format)"},
    {"replace", 3, 3, fn_replace, "replace(s, old, new)"},
    {"round", 1, 1, fn_round, "round(x)"},
    {"split", 1, 2, fn_split, "split(s, sep)"},
    {"sqrt", 1, 1, fn_sqrt, "sqrt(x)"},
    {"starts_with", 2, 2, fn_starts_with, "starts_with(s, prefix)"},
    {"str", 1, 1, fn_str, "str(x)"},
    {"substr", 2, 3, fn_substr, "substr(s, start, length)"},
    {"sum", 1, 1, fn_sum, "sum(array)"},
    {"trim", 1, 1, fn_trim, "trim(s)"},
    {"upper", 1, 1, fn_upper, "upper(s)"},
    {"values", 1, 1, fn_values, "values(object)"},
};

}  // namespace

std::span<const builtin_function> builtin_functions() { return table; }

const builtin_function* find_function(std::string_view name) {
  for (auto& f : table)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace weir::dsl::detail

namespace weir::dsl {

std::vector<std::string> function_names() {
  std::vector<std::string> out;
  for (auto& f : detail::builtin_functions()) out.emplace_back(f.name);
  out.emplace_back("if");  // a special form (lazy), compiled by the expression compiler
  return out;
}

}  // namespace weir::dsl
