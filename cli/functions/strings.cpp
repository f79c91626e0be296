// weir — built-in DSL functions: strings (split, chars, lower, upper, trim, str, contains,
// starts_with, ends_with, replace, substr, join, concat) and JSON text (to_json, from_json).
// Contracts: docs/DSL.md ("Functions"); each row of the table at the end is
// one function (name, argument counts, implementation, signature).
#include <algorithm>
#include <string>
#include <vector>

#include "weir/cli/detail/functions.hpp"
#include "weir/io/json.hpp"

namespace weir::dsl::detail {

namespace {

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

/// The characters of a UTF-8 string, each a string of 1 to 4 bytes (Python's
/// list(s), Java's s.split("")); a byte that starts no well-formed UTF-8
/// character is an item of its own, so that join(chars(s), "") == s.
value fn_chars(std::span<const value> a, const node& site) {
  std::string_view s = want_string(a, 0, site, "chars");
  std::vector<value> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = std::max<std::size_t>(1, utf8_char_length(s, i));
    out.emplace_back(s.substr(i, n));
    i += n;
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

value fn_str(std::span<const value> a, const node&) {
  if (a[0].is_string()) return a[0];
  return value(a[0].to_text());
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

value fn_concat(std::span<const value> a, const node&) {
  std::string out;
  for (auto& x : a) {
    if (x.is_string()) out.append(x.as_string());
    else x.append_text(out);
  }
  return value(out);
}

value fn_to_json(std::span<const value> a, const node&) { return value(a[0].to_json()); }

value fn_from_json(std::span<const value> a, const node& site) {
  std::string_view s = want_string(a, 0, site, "from_json");
  try {
    return io::parse_json(s);
  } catch (const record_error& e) {
    std::string shown(s.substr(0, 40));
    if (s.size() > 40) shown += "...";
    site.fail(fmt::format("from_json() cannot parse \"{}\": {}", shown, e.what()));
  }
}

constexpr builtin_function table[] = {
    {"concat", 1, max_params, fn_concat, "concat(a, b, ...)"},
    {"chars", 1, 1, fn_chars, "chars(s)"},
    {"contains", 2, 2, fn_contains, "contains(s, sub)"},
    {"ends_with", 2, 2, fn_ends_with, "ends_with(s, suffix)"},
    {"from_json", 1, 1, fn_from_json, "from_json(s)"},
    {"join", 1, 2, fn_join, "join(array, sep)"},
    {"lower", 1, 1, fn_lower, "lower(s)"},
    {"replace", 3, 3, fn_replace, "replace(s, old, new)"},
    {"split", 1, 2, fn_split, "split(s, sep)"},
    {"starts_with", 2, 2, fn_starts_with, "starts_with(s, prefix)"},
    {"str", 1, 1, fn_str, "str(x)"},
    {"substr", 2, 3, fn_substr, "substr(s, start, length)"},
    {"to_json", 1, 1, fn_to_json, "to_json(x)"},
    {"trim", 1, 1, fn_trim, "trim(s)"},
    {"upper", 1, 1, fn_upper, "upper(s)"},
};

}  // namespace

std::span<const builtin_function> string_functions() { return table; }

}  // namespace weir::dsl::detail
