// weir — built-in DSL functions: regular expressions (matches, regexp_extract, regexp_replace),
// Spark SQL's `rlike`, `regexp_extract` and `regexp_replace` on RE2 (io/regex.hpp: linear time,
// no backreferences or lookaround). A constant pattern is compiled once, when the script is
// compiled, and a bad one is a compile error at the pattern; a pattern computed per record is
// compiled for each call.
// Contracts: docs/DSL.md ("Functions"); each row of the table at the end is
// one function (name, argument counts, implementation, signature).
#include <memory>
#include <string>

#include "weir/cli/detail/functions.hpp"
#include "weir/io/regex.hpp"

namespace weir::dsl::detail {

namespace {

std::string what_of(std::string_view fname) { return std::string(fname) + "()"; }

/// The pattern argument (index 1) compiled; `site` reports a bad one.
std::shared_ptr<const io::regex> compile_pattern(const value& p, std::string_view fname, const node* site) {
  if (!p.is_string()) {
    std::string msg = fmt::format("{}() expects a string (a pattern) as argument 2, got {}", fname, kind_name(p.type()));
    if (site) site->fail(msg);
    throw bad_argument(1, msg);
  }
  try {
    return std::make_shared<const io::regex>(p.as_string(), what_of(fname));
  } catch (const pipeline_error& e) {
    if (site) site->fail(e.what());
    throw bad_argument(1, e.what());
  }
}

/// The regex of a call: the one compiled at compile time, or compiled now.
std::shared_ptr<const io::regex> regex_of(std::span<const value> a, const void* prepared, const node& site,
                                          std::string_view fname) {
  if (prepared) return {std::shared_ptr<const io::regex>{}, static_cast<const io::regex*>(prepared)};
  return compile_pattern(a[1], fname, &site);
}

std::shared_ptr<const void> prepare_pattern(std::span<const value* const> c, std::string_view fname) {
  if (!c[1]) return nullptr;
  return compile_pattern(*c[1], fname, nullptr);
}

// ---- matches -------------------------------------------------------------------

value fn_matches(std::span<const value> a, const void* prepared, const node& site) {
  auto re = regex_of(a, prepared, site, "matches");
  if (a[0].is_null()) return value();
  return value(re->contains(want_string(a, 0, site, "matches")));
}

// ---- regexp_extract --------------------------------------------------------------

/// The group argument: null (1), an int in [0, groups], or a group name.
/// Empty message if fine, else why not.
std::string group_index(const io::regex& re, const value& g, std::size_t& out) {
  if (g.is_null()) {
    out = 1;
  } else if (g.is_int()) {
    if (g.as_int() < 0) return fmt::format("regexp_extract() group must not be negative, got {}", g.as_int());
    out = static_cast<std::size_t>(g.as_int());
  } else if (g.is_string()) {
    for (auto& [name, index] : re.names())
      if (name == g.as_string()) {
        out = index;
        return {};
      }
    return fmt::format("regexp_extract(): the pattern /{}/ has no group named '{}'", re.pattern(), g.as_string());
  } else {
    return fmt::format("regexp_extract() expects an int or a group name as argument 3, got {}", kind_name(g.type()));
  }
  if (out > re.groups())
    return fmt::format("regexp_extract(): the pattern /{}/ has {} group{}, got group {}", re.pattern(), re.groups(),
                       re.groups() == 1 ? "" : "s", out);
  return {};
}

std::shared_ptr<const void> prepare_extract(std::span<const value* const> c, std::string_view fname) {
  if (!c[1]) return nullptr;
  auto re = compile_pattern(*c[1], fname, nullptr);
  if (c.size() > 2 && c[2]) {
    std::size_t g = 0;
    if (auto why = group_index(*re, *c[2], g); !why.empty()) throw bad_argument(2, why);
  } else if (c.size() == 2) {
    std::size_t g = 0;
    if (auto why = group_index(*re, value(), g); !why.empty()) throw bad_argument(1, why);
  }
  return re;
}

value fn_regexp_extract(std::span<const value> a, const void* prepared, const node& site) {
  auto re = regex_of(a, prepared, site, "regexp_extract");
  std::size_t g = 1;
  if (auto why = group_index(*re, a.size() > 2 ? a[2] : value(), g); !why.empty()) site.fail(why);
  if (a[0].is_null()) return value();
  std::string_view s = want_string(a, 0, site, "regexp_extract");
  constexpr std::size_t small = 10;
  std::string_view fixed[small];
  std::vector<std::string_view> heap;
  std::span<std::string_view> spans(fixed, g + 1);
  if (g + 1 > small) {
    heap.resize(g + 1);
    spans = heap;
  }
  if (!re->search(s, spans) || spans[g].data() == nullptr) return value();
  return value(spans[g]);
}

// ---- regexp_replace --------------------------------------------------------------

std::shared_ptr<const void> prepare_replace(std::span<const value* const> c, std::string_view fname) {
  if (!c[1]) return nullptr;
  auto re = compile_pattern(*c[1], fname, nullptr);
  if (c[2] && c[2]->is_string())
    if (auto why = re->check_rewrite(c[2]->as_string()); !why.empty())
      throw bad_argument(2, fmt::format("regexp_replace(): {}", why));
  return re;
}

value fn_regexp_replace(std::span<const value> a, const void* prepared, const node& site) {
  auto re = regex_of(a, prepared, site, "regexp_replace");
  std::string_view rep = want_string(a, 2, site, "regexp_replace");
  if (rep.find('\\') != std::string_view::npos)
    if (auto why = re->check_rewrite(rep); !why.empty()) site.fail(fmt::format("regexp_replace(): {}", why));
  if (a[0].is_null()) return value();
  return value(re->replace_all(want_string(a, 0, site, "regexp_replace"), rep));
}

constexpr builtin_function table[] = {
    {.name = "matches", .min_args = 2, .max_args = 2, .call = nullptr, .signature = "matches(s, re)",
     .prepare = prepare_pattern, .call_prepared = fn_matches},
    {.name = "regexp_extract", .min_args = 2, .max_args = 3, .call = nullptr,
     .signature = "regexp_extract(s, re, group = 1)", .named = "s,re,group", .prepare = prepare_extract,
     .call_prepared = fn_regexp_extract},
    {.name = "regexp_replace", .min_args = 3, .max_args = 3, .call = nullptr,
     .signature = "regexp_replace(s, re, replacement)", .prepare = prepare_replace,
     .call_prepared = fn_regexp_replace},
};

}  // namespace

std::span<const builtin_function> regex_functions() { return table; }

}  // namespace weir::dsl::detail
