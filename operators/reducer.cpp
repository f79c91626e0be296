#include "weir/operators/reducer.hpp"

#include <limits>
#include <string>

#include "weir/operators/stream_operator.hpp"

namespace weir {

namespace {

[[noreturn]] void type_error(const char* verb, const value& a, const value& b) {
  throw record_error(error_code::type_mismatch, std::string("cannot ") + verb + " " + std::string(kind_name(a.type())) +
                     " and " + std::string(kind_name(b.type())));
}

}  // namespace

value add(const value& a, const value& b) {
  if (a.is_int() && b.is_int()) {
    std::int64_t r;
    if (__builtin_add_overflow(a.as_int(), b.as_int(), &r))
      throw record_error(error_code::arithmetic_overflow, "integer overflow in " + a.to_json() + " + " + b.to_json());
    return value(r);
  }
  if (a.is_number() && b.is_number()) return value(a.as_number() + b.as_number());
  if (a.is_string() && b.is_string()) {
    std::string s;
    s.reserve(a.as_string().size() + b.as_string().size());
    s += a.as_string();
    s += b.as_string();
    return value(s);
  }
  type_error("add", a, b);
}

value subtract(const value& a, const value& b) {
  if (a.is_int() && b.is_int()) {
    std::int64_t r;
    if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r))
      throw record_error(error_code::arithmetic_overflow, "integer overflow in " + a.to_json() + " - " + b.to_json());
    return value(r);
  }
  if (a.is_number() && b.is_number()) return value(a.as_number() - b.as_number());
  type_error("subtract", a, b);
}

reducer reducer::sum() { return {builtin::sum, "sum", {}}; }
reducer reducer::sub() { return {builtin::sub, "sub", {}}; }
reducer reducer::min() { return {builtin::min, "min", {}}; }
reducer reducer::max() { return {builtin::max, "max", {}}; }
reducer reducer::count() { return {builtin::count, "count", {}}; }
reducer reducer::custom(std::function<value(const value&, const value&)> f, std::string name) {
  return {builtin::none, std::move(name), std::move(f)};
}

value reducer::apply(const value& a, const value& b) const {
  switch (op) {
    case builtin::sum:
    case builtin::count:
      if (a.is_int() && b.is_int()) {
        std::int64_t r;
        if (!__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return value(r);
      }
      return add(a, b);
    case builtin::sub: return subtract(a, b);
    case builtin::min: return b < a ? b : a;
    case builtin::max: return a < b ? b : a;
    case builtin::none: return fn(a, b);
  }
  return fn(a, b);
}

}  // namespace weir
