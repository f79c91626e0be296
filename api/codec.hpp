// weir — conversion between C++ types and the dynamic record type weir::value,
// for the typed API (api/stream.hpp).
//
// codec<T> has two static functions:
//   static value to_value(const T&);
//   static T from_value(const value&);     // @errors record_error on a mismatch
// Provided for: weir::value (identity), bool, every integral type (int64),
// float/double (double; from_value also accepts an int), std::string,
// std::pair and std::tuple (DSL tuples: value::array(..., tuple = true)),
// std::vector (arrays), std::optional (null = nullopt), std::monostate
// (null), and user structs declared with WEIR_CODEC:
//
//   struct click { std::string user; std::int64_t time; };
//   WEIR_CODEC(click, user, time)   // at global scope: click <-> {"user": ..., "time": ...}
//
// A missing field of an object decodes as a default-constructed member only
// if the member is a std::optional; otherwise it is a record_error naming it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "weir/operators/stream_operator.hpp"
#include "weir/operators/value.hpp"

namespace weir {

/// The conversion of T to and from weir::value; specialise it for your types
/// (or use WEIR_CODEC). The primary template is undefined.
template <class T, class Enable = void>
struct codec;

/// True when codec<T> is defined.
template <class T, class = void>
inline constexpr bool has_codec = false;
template <class T>
inline constexpr bool has_codec<T, std::void_t<decltype(codec<T>::to_value(std::declval<const T&>())),
                                                decltype(codec<T>::from_value(std::declval<const value&>()))>> =
    true;

namespace detail {
[[noreturn]] inline void codec_mismatch(const char* expected, const value& v) {
  throw record_error(std::string("typed stream: expected ") + expected + ", got " +
                     std::string(kind_name(v.type())) + " " + v.to_json());
}
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
}  // namespace detail

template <>
struct codec<value> {
  static value to_value(const value& v) { return v; }
  static value from_value(const value& v) { return v; }
};

template <>
struct codec<bool> {
  static value to_value(bool b) { return value(b); }
  static bool from_value(const value& v) {
    if (!v.is_bool()) detail::codec_mismatch("bool", v);
    return v.as_bool();
  }
};

template <class T>
struct codec<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static value to_value(T i) { return value(static_cast<std::int64_t>(i)); }
  static T from_value(const value& v) {
    if (!v.is_int()) detail::codec_mismatch("int", v);
    return static_cast<T>(v.as_int());
  }
};

template <class T>
struct codec<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static value to_value(T d) { return value(static_cast<double>(d)); }
  static T from_value(const value& v) {
    if (!v.is_number()) detail::codec_mismatch("number", v);
    return static_cast<T>(v.as_number());
  }
};

template <>
struct codec<std::string> {
  static value to_value(const std::string& s) { return value(std::string_view(s)); }
  static std::string from_value(const value& v) {
    if (!v.is_string()) detail::codec_mismatch("string", v);
    return std::string(v.as_string());
  }
};

template <>
struct codec<std::monostate> {
  static value to_value(std::monostate) { return value(); }
  static std::monostate from_value(const value&) { return {}; }
};

template <class T>
struct codec<std::optional<T>> {
  static value to_value(const std::optional<T>& o) { return o ? codec<T>::to_value(*o) : value(); }
  static std::optional<T> from_value(const value& v) {
    if (v.is_null()) return std::nullopt;
    return codec<T>::from_value(v);
  }
};

template <class T, class A>
struct codec<std::vector<T, A>> {
  static value to_value(const std::vector<T, A>& xs) {
    std::vector<value> items;
    items.reserve(xs.size());
    for (auto& x : xs) items.push_back(codec<T>::to_value(x));
    return value::array(std::move(items));
  }
  static std::vector<T, A> from_value(const value& v) {
    if (!v.is_array()) detail::codec_mismatch("array", v);
    std::vector<T, A> out;
    out.reserve(v.as_array().size());
    for (auto& x : v.as_array()) out.push_back(codec<T>::from_value(x));
    return out;
  }
};

template <class... Ts>
struct codec<std::tuple<Ts...>> {
  static value to_value(const std::tuple<Ts...>& t) {
    return std::apply(
        [](const auto&... xs) {
          return value::array({codec<std::decay_t<decltype(xs)>>::to_value(xs)...}, true);
        },
        t);
  }
  static std::tuple<Ts...> from_value(const value& v) {
    if (!v.is_array() || v.as_array().size() != sizeof...(Ts)) {
      static const std::string what = "a tuple of " + std::to_string(sizeof...(Ts));
      detail::codec_mismatch(what.c_str(), v);
    }
    auto items = v.as_array();
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::tuple<Ts...>(codec<Ts>::from_value(items[I])...);
    }(std::index_sequence_for<Ts...>{});
  }
};

template <class K, class V>
struct codec<std::pair<K, V>> {
  static value to_value(const std::pair<K, V>& p) {
    return value::pair(codec<K>::to_value(p.first), codec<V>::to_value(p.second));
  }
  static std::pair<K, V> from_value(const value& v) {
    if (!v.is_array() || v.as_array().size() != 2) detail::codec_mismatch("a pair", v);
    return {codec<K>::from_value(v.as_array()[0]), codec<V>::from_value(v.as_array()[1])};
  }
};

namespace detail {
/// Decodes field `name` of object `v` into a member of type M.
template <class M>
M codec_field(const value& v, const char* name) {
  const value* f = v.find(name);
  if (!f) {
    if constexpr (is_optional<M>::value) return std::nullopt;
    throw record_error(std::string("typed stream: missing field \"") + name + "\" in " + v.to_json());
  }
  return codec<M>::from_value(*f);
}
}  // namespace detail

}  // namespace weir

// --- WEIR_CODEC(Type, member, ...) ---------------------------------------------
// FOR_EACH over up to 256 members (C++20 __VA_OPT__).
#define WEIR_CODEC_PARENS ()
#define WEIR_CODEC_EXPAND(...) WEIR_CODEC_EXPAND4(WEIR_CODEC_EXPAND4(WEIR_CODEC_EXPAND4(WEIR_CODEC_EXPAND4(__VA_ARGS__))))
#define WEIR_CODEC_EXPAND4(...) WEIR_CODEC_EXPAND3(WEIR_CODEC_EXPAND3(WEIR_CODEC_EXPAND3(WEIR_CODEC_EXPAND3(__VA_ARGS__))))
#define WEIR_CODEC_EXPAND3(...) WEIR_CODEC_EXPAND2(WEIR_CODEC_EXPAND2(WEIR_CODEC_EXPAND2(WEIR_CODEC_EXPAND2(__VA_ARGS__))))
#define WEIR_CODEC_EXPAND2(...) WEIR_CODEC_EXPAND1(WEIR_CODEC_EXPAND1(WEIR_CODEC_EXPAND1(WEIR_CODEC_EXPAND1(__VA_ARGS__))))
#define WEIR_CODEC_EXPAND1(...) __VA_ARGS__
#define WEIR_CODEC_FOR_EACH(macro, ...) __VA_OPT__(WEIR_CODEC_EXPAND(WEIR_CODEC_FOR_EACH_HELPER(macro, __VA_ARGS__)))
#define WEIR_CODEC_FOR_EACH_HELPER(macro, a1, ...) \
  macro(a1) __VA_OPT__(WEIR_CODEC_FOR_EACH_AGAIN WEIR_CODEC_PARENS(macro, __VA_ARGS__))
#define WEIR_CODEC_FOR_EACH_AGAIN() WEIR_CODEC_FOR_EACH_HELPER
#define WEIR_CODEC_TO_FIELD(m) \
  fs.push_back({::weir::value(#m), ::weir::codec<std::remove_cvref_t<decltype(o.m)>>::to_value(o.m)});
#define WEIR_CODEC_FROM_FIELD(m) o.m = ::weir::detail::codec_field<std::remove_cvref_t<decltype(o.m)>>(v, #m);

/// Declares weir::codec<Type> for an aggregate: an object with the listed
/// members as fields, in order. Use at global scope, after Type's definition;
/// Type must be default-constructible and every member type must have a codec.
#define WEIR_CODEC(Type, ...)                                                  \
  template <>                                                                  \
  struct weir::codec<Type> {                                                   \
    static ::weir::value to_value(const Type& o) {                             \
      std::vector<::weir::field> fs;                                           \
      WEIR_CODEC_FOR_EACH(WEIR_CODEC_TO_FIELD, __VA_ARGS__)                    \
      return ::weir::value::object(std::move(fs));                             \
    }                                                                          \
    static Type from_value(const ::weir::value& v) {                           \
      if (!v.is_object()) ::weir::detail::codec_mismatch("an object (" #Type ")", v); \
      Type o{};                                                                \
      WEIR_CODEC_FOR_EACH(WEIR_CODEC_FROM_FIELD, __VA_ARGS__)                  \
      return o;                                                                \
    }                                                                          \
  }
