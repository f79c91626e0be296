// weir — the registry of the DSL's built-in functions: the families of
// cli/functions/ merged in name order (the order "did you mean" prefers on
// ties), looked up by the expression compiler when a script is compiled.
// Adding a function: its implementation and one table row in its family's
// file (docs/architecture.md §1, "Adding a stage or a function").
#include <algorithm>
#include <vector>

#include "weir/cli/detail/functions.hpp"
#include "weir/cli/expression.hpp"

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

std::span<const builtin_function> builtin_functions() {
  static const std::vector<builtin_function> all = [] {
    std::vector<builtin_function> v;
    for (auto family : {string_functions(), number_functions(), collection_functions(), time_functions(),
                        regex_functions()})
      v.insert(v.end(), family.begin(), family.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return v;
  }();
  return all;
}

const builtin_function* find_function(std::string_view name) {
  for (auto& f : builtin_functions())
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
