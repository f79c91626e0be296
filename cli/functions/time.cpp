// weir — built-in DSL functions: time (parse_time).
// Contracts: docs/DSL.md ("Functions"); each row of the table at the end is
// one function (name, argument counts, implementation, signature).
#include <optional>

#include "weir/cli/detail/functions.hpp"

namespace weir::dsl::detail {

namespace {

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

constexpr builtin_function table[] = {
    {"parse_time", 1, 2, fn_parse_time, "parse_time(s, format)"},
};

}  // namespace

std::span<const builtin_function> time_functions() { return table; }

}  // namespace weir::dsl::detail
