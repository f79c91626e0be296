// weir — internals of compiled DSL expressions: the node base class and the
// built-in function table. Not part of the public interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
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
/// parameter is not a value: its methods read it through this slot). A
/// lambda passed to a function (`transform(arr, x => ...)`) runs in a frame
/// of its own whose `outer` is the frame it was written in, so the outer
/// lambdas' parameters stay visible (closures).
struct frame {
  const value* args[max_params] = {};
  state_handle* state = nullptr;
  const frame* outer = nullptr;
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

/// The lambda argument of a higher-order function (`transform(arr, x => e)`),
/// as the function sees it: call it with the values of its parameters. The
/// lambda's body sees the record (`_`) and the enclosing lambdas' parameters.
class closure {
public:
  closure(const node& body, std::size_t params, const value& it, const frame& outer)
      : body_(body), params_(params), it_(it), outer_(outer) {}
  /// Number of parameters the lambda was written with (1 or 2).
  std::size_t params() const noexcept { return params_; }
  /// The body with the first parameter bound to `x` (and the second, if the
  /// lambda has one, to `i`, the index: Spark's `transform(arr, (x, i) => ...)`).
  value operator()(const value& x, std::int64_t i = 0) const;

private:
  const node& body_;
  std::size_t params_;
  const value& it_;
  const frame& outer_;
};

/// Thrown by a builtin_function's `prepare` for a constant argument it
/// refuses (a bad regex pattern, an unsupported time format directive): a
/// compile error at argument `index`.
struct bad_argument : std::invalid_argument {
  bad_argument(std::size_t i, const std::string& msg) : std::invalid_argument(msg), index(i) {}
  std::size_t index;
};

/// A built-in function: `call(args, site)` with args.size() in [min_args, max_args];
/// `site` is the call node, for error messages (`site.fail(...)`).
///
/// Optional forms, for the functions that need them:
/// - `named`: the parameters that may also be given by name, in position
///   order, comma-separated ("s,format,zone"); a parameter left out before
///   one given by name is passed as null (its default).
/// - `lambda_params` > 0: the last argument is a lambda of 1 to
///   `lambda_params` parameters (`transform(arr, x => e)`); the other
///   arguments are evaluated and `call_lambda(args, fn, site)` is called.
/// - `prepare` set: called once at compile time with the arguments that are
///   constant (null for the others) to convert them once (a regex pattern
///   compiled, a time zone looked up); `call_prepared(args, prepared, site)`
///   gets what it returned (possibly null: then the function converts its
///   arguments per call). It throws bad_argument for a constant it refuses.
struct builtin_function {
  std::string_view name;
  std::size_t min_args;
  std::size_t max_args;
  value (*call)(std::span<const value> args, const node& site);
  std::string_view signature;  ///< e.g. "split(s, sep)", for messages and docs
  std::string_view named = {};
  std::size_t lambda_params = 0;
  value (*call_lambda)(std::span<const value> args, const closure& fn, const node& site) = nullptr;
  std::shared_ptr<const void> (*prepare)(std::span<const value* const> constants, std::string_view fname) = nullptr;
  value (*call_prepared)(std::span<const value> args, const void* prepared, const node& site) = nullptr;
};

/// The built-in function table (cli/functions.cpp), in name order.
std::span<const builtin_function> builtin_functions();
const builtin_function* find_function(std::string_view name);

/// "a string", "an int", ... for messages: "lower() expects a string, got int".
std::string_view kind_article(kind k);

}  // namespace weir::dsl::detail
