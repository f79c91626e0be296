// weir — internals of compiled DSL expressions: the node base class and the
// built-in function table. Not part of the public interface.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "weir/cli/dsl_error.hpp"
#include "weir/operators/state_operators.hpp"
#include "weir/operators/stream_operator.hpp"
#include "weir/operators/value.hpp"

namespace weir::dsl::detail {

/// Maximum number of lambda parameters and of function arguments.
inline constexpr std::size_t max_params = 8;

/// The values bound to the parameters of the lambda being evaluated, and,
/// inside a map_with_state function only, the key's state (the `state`
/// parameter is not a value: its methods read it through this slot).
struct frame {
  const value* args[max_params] = {};
  state_handle* state = nullptr;
};

/// A record_error raised by a node; also keeps the message without the
/// location so that constant folding can turn it into a dsl_error.
class located_record_error : public record_error {
public:
  located_record_error(const source_location& loc, const std::string& msg)
      : record_error(loc.str() + ": " + msg), loc_(loc), msg_(msg) {}
  const source_location& where() const noexcept { return loc_; }
  const std::string& message() const noexcept { return msg_; }

private:
  source_location loc_;
  std::string msg_;
};

/// One node of a compiled expression. Immutable after compilation.
/// @thread eval/ref may run concurrently from many threads.
class node {
public:
  explicit node(source_location loc) : loc_(std::move(loc)) {}
  virtual ~node() = default;

  /// The value of the expression for element `it`.
  /// @errors located_record_error (a weir::record_error) on a type error.
  virtual value eval(const value& it, const frame& f) const = 0;

  /// A pointer to the value if it already exists in `it` or `f` (element,
  /// parameter, field or item of those), to avoid a copy; nullptr otherwise.
  virtual const value* ref(const value& it, const frame& f) const { return nullptr; }

  /// True if the value does not depend on the element or parameters.
  virtual bool constant() const { return false; }

  const source_location& loc() const noexcept { return loc_; }

  [[noreturn]] void fail(const std::string& msg) const { throw located_record_error(loc_, msg); }

private:
  source_location loc_;
};

using node_ptr = std::unique_ptr<node>;

/// A built-in function: `call(args, site)` with args.size() in [min_args, max_args];
/// `site` is the call node, for error messages (`site.fail(...)`).
struct builtin_function {
  std::string_view name;
  std::size_t min_args;
  std::size_t max_args;
  value (*call)(std::span<const value> args, const node& site);
  std::string_view signature;  ///< e.g. "split(s, sep)", for messages and docs
};

/// The built-in function table (cli/functions.cpp), in name order.
std::span<const builtin_function> builtin_functions();
const builtin_function* find_function(std::string_view name);

/// "a string", "an int", ... for messages: "lower() expects a string, got int".
std::string_view kind_article(kind k);

}  // namespace weir::dsl::detail
