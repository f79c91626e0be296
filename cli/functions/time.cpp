// weir — built-in DSL functions: time (parse_time, format_time), strftime-style formats, and
// time zones: a fixed offset ("+02:00") or an IANA name ("Europe/Paris") through Howard
// Hinnant's date library (Debian's libhowardhinnant-date-dev, on the system's tz database).
// A constant format is checked and a constant zone looked up once, when the script is
// compiled; an unsupported directive or an unknown zone is a compile error at the argument.
// Contracts: docs/DSL.md ("Functions", "Time"); each row of the table at the end is
// one function (name, argument counts, implementation, signature).
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <date/tz.h>

#include "weir/cli/detail/functions.hpp"
#include "weir/cli/suggest.hpp"
#include "weir/common/time.hpp"

namespace weir::dsl::detail {

namespace {

// ---- calendar arithmetic (H. Hinnant's algorithms) ---------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
  std::int64_t y;
  unsigned m, d;
};

civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : n[m - 1];
}

constexpr std::array<std::string_view, 12> month_names = {"January", "February", "March",     "April",
                                                           "May",     "June",     "July",      "August",
                                                           "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> day_names = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                        "Thursday", "Friday", "Saturday"};

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// ---- formats -------------------------------------------------------------------------

constexpr std::string_view supported = "%Y %y %m %d %e %j %H %I %M %S %f %p %b %B %a %A %z %%";

/// One item of a format: a directive (`%Y`: 'Y') or a literal character.
struct item {
  char directive;  ///< 0: a literal
  char literal;
};
using format = std::vector<item>;

/// Splits a strftime-style format into items.
/// @errors bad_argument(arg) naming an unsupported directive.
format compile_format(std::string_view f, std::string_view fname, std::size_t arg) {
  format out;
  for (std::size_t k = 0; k < f.size(); ++k) {
    if (f[k] != '%') {
      out.push_back({0, f[k]});
      continue;
    }
    if (k + 1 == f.size())
      throw bad_argument(arg, fmt::format("{}(): format \"{}\" ends with a lone '%' (write %% for a percent sign)",
                                          fname, f));
    const char d = f[++k];
    if (d == '%') {
      out.push_back({0, '%'});
      continue;
    }
    if (std::string_view("YymdejHIMSfpbBaAz").find(d) == std::string_view::npos)
      throw bad_argument(arg, fmt::format("{}(): format \"{}\": the directive %{} is not supported (weir supports {})",
                                          fname, f, d, supported));
    out.push_back({d, 0});
  }
  return out;
}

// ---- zones ---------------------------------------------------------------------------

/// A fixed offset from UTC, or an IANA zone of the tz database.
struct zone {
  std::int64_t offset_s = 0;
  const date::time_zone* tz = nullptr;
  bool utc() const { return !tz && offset_s == 0; }
};

/// "+02:00", "-0530", "+02", "Z", "UTC" or an IANA name.
/// @errors bad_argument(arg) for a name the tz database does not know.
zone parse_zone(std::string_view s, std::string_view fname, std::size_t arg) {
  zone z;
  if (s == "Z" || s == "UTC" || s == "utc") return z;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    auto d = [&](std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
    std::int64_t hh = 0, mm = 0;
    std::size_t i = 1;
    if (d(1) && d(2)) {
      hh = (s[1] - '0') * 10 + (s[2] - '0');
      i = 3;
      if (i < s.size() && s[i] == ':') ++i;
      if (d(i) && d(i + 1)) {
        mm = (s[i] - '0') * 10 + (s[i + 1] - '0');
        i += 2;
      }
    }
    if (i == s.size() && i > 1 && hh <= 23 && mm <= 59) {
      z.offset_s = (s[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
      return z;
    }
    throw bad_argument(arg, fmt::format("{}(): bad zone offset \"{}\" (expected +hh:mm, +hhmm or +hh)", fname, s));
  }
  try {
    z.tz = date::locate_zone(s);
    return z;
  } catch (const std::exception&) {
    std::vector<std::string> names;
    try {
      for (auto& tz : date::get_tzdb().zones) names.emplace_back(tz.name());
    } catch (const std::exception&) {
    }
    throw bad_argument(arg, fmt::format("{}(): unknown time zone \"{}\"{} (give an offset like \"+02:00\" or an "
                                        "IANA name like \"Europe/Paris\")",
                                        fname, s, did_you_mean(s, names)));
  }
}

/// The offset (s) of local time `local_s` (seconds since the epoch as if the
/// local wall clock were UTC) in `z`. A local time that occurs twice (clocks
/// going back) takes the earlier instant, one that does not occur (clocks
/// going forward) is moved forward by the gap — as java.time does.
std::int64_t offset_of_local(const zone& z, std::int64_t local_s) {
  if (!z.tz) return z.offset_s;
  const auto info = z.tz->get_info(date::local_seconds(std::chrono::seconds(local_s)));
  return info.first.offset.count();
}

/// The offset (s) in `z` at the instant `utc_s`.
std::int64_t offset_of_utc(const zone& z, std::int64_t utc_s) {
  if (!z.tz) return z.offset_s;
  return z.tz->get_info(date::sys_seconds(std::chrono::seconds(utc_s))).offset.count();
}

// ---- parse_time -------------------------------------------------------------------------

/// `s` parsed with format `f`, as ms since the epoch; fields the format does
/// not give are those of 1970-01-01 00:00:00.000; a time without an offset
/// (%z) is in zone `z`. nullopt if `s` does not fit the format.
std::optional<std::int64_t> parse_with(std::string_view s, const format& f, const zone& z) {
  std::int64_t year = 1970;
  unsigned mon = 1, day = 1;
  std::int64_t doy = 0, hour = 0, hour12 = -1, min = 0, sec = 0, ms = 0, offset_s = 0;
  int pm = -1;
  bool has_offset = false;
  std::size_t i = 0;
  auto digits = [&](std::size_t maxn, std::int64_t& out) {
    std::size_t n = 0;
    std::int64_t v = 0;
    while (n < maxn && i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0'), ++n;
    out = v;
    return n > 0;
  };
  /// A name of `names` (full, or its first three letters), case-insensitive.
  auto name = [&](auto& names, std::int64_t& out) {
    for (std::size_t k = 0; k < names.size(); ++k) {
      std::string_view full = names[k];
      if (s.size() - i >= full.size() && iequal(s.substr(i, full.size()), full)) {
        i += full.size();
        out = static_cast<std::int64_t>(k);
        return true;
      }
    }
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (s.size() - i >= 3 && iequal(s.substr(i, 3), names[k].substr(0, 3))) {
        i += 3;
        out = static_cast<std::int64_t>(k);
        return true;
      }
    }
    return false;
  };
  for (const item& it : f) {
    if (!it.directive) {
      if (i >= s.size() || s[i] != it.literal) return std::nullopt;
      ++i;
      continue;
    }
    std::int64_t v = 0;
    switch (it.directive) {
      case 'Y': {
        bool neg = i < s.size() && s[i] == '-';
        if (neg) ++i;
        if (!digits(4, v)) return std::nullopt;
        year = neg ? -v : v;
        break;
      }
      case 'y':
        if (i + 2 > s.size() || !digits(2, v)) return std::nullopt;
        year = v < 69 ? 2000 + v : 1900 + v;  // POSIX: 69-99 are 1969-1999, 00-68 are 2000-2068
        break;
      case 'm': if (!digits(2, v) || v < 1 || v > 12) return std::nullopt; mon = static_cast<unsigned>(v); break;
      case 'e':
        if (i < s.size() && s[i] == ' ') ++i;
        [[fallthrough]];
      case 'd': if (!digits(2, v) || v < 1 || v > 31) return std::nullopt; day = static_cast<unsigned>(v); break;
      case 'j': if (!digits(3, v) || v < 1 || v > 366) return std::nullopt; doy = v; break;
      case 'H': if (!digits(2, v) || v > 23) return std::nullopt; hour = v; break;
      case 'I': if (!digits(2, v) || v < 1 || v > 12) return std::nullopt; hour12 = v; break;
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
      case 'p':
        if (s.size() - i >= 2 && iequal(s.substr(i, 2), "AM")) pm = 0;
        else if (s.size() - i >= 2 && iequal(s.substr(i, 2), "PM")) pm = 1;
        else return std::nullopt;
        i += 2;
        break;
      case 'b':
      case 'B':
        if (!name(month_names, v)) return std::nullopt;
        mon = static_cast<unsigned>(v + 1);
        break;
      case 'a':
      case 'A':
        if (!name(day_names, v)) return std::nullopt;  // read, not checked against the date
        break;
      case 'z': {
        has_offset = true;
        if (i < s.size() && s[i] == 'Z') {
          ++i;
          offset_s = 0;
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
      default: return std::nullopt;
    }
  }
  if (i != s.size()) return std::nullopt;
  if (hour12 >= 0) hour = hour12 % 12 + (pm == 1 ? 12 : 0);
  std::int64_t days;
  if (doy > 0) {
    if (doy > (leap(year) ? 366 : 365)) return std::nullopt;
    days = days_from_civil(year, 1, 1) + doy - 1;
  } else {
    if (day > days_in_month(year, mon)) return std::nullopt;
    days = days_from_civil(year, mon, day);
  }
  const std::int64_t local_s = days * 86400 + hour * 3600 + min * 60 + sec;
  if (!has_offset) offset_s = offset_of_local(z, local_s);
  return (local_s - offset_s) * 1000 + ms;
}

/// ISO 8601 forms parse_time reads without a format.
const std::vector<format>& iso_formats() {
  static const std::vector<format> f = [] {
    std::vector<format> v;
    for (auto s : {"%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S.%f%z",
                   "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f",
                   "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"})
      v.push_back(compile_format(s, "parse_time", 1));
    return v;
  }();
  return f;
}

/// What a call of parse_time or format_time converted at compile time.
struct prepared_time {
  std::optional<format> fmt;  ///< the format argument, when constant
  std::optional<zone> z;      ///< the zone argument, when constant
};

std::shared_ptr<const void> prepare_time(std::span<const value* const> c, std::string_view fname) {
  auto p = std::make_shared<prepared_time>();
  if (c.size() > 1 && c[1] && c[1]->is_string()) p->fmt = compile_format(c[1]->as_string(), fname, 1);
  if (c.size() > 2 && c[2] && c[2]->is_string()) p->z = parse_zone(c[2]->as_string(), fname, 2);
  return p;
}

/// The zone argument (index 2): the prepared one, else parsed now (UTC if absent or null).
zone zone_arg(std::span<const value> a, const prepared_time* p, const node& site, std::string_view fname) {
  if (p && p->z) return *p->z;
  if (a.size() < 3 || a[2].is_null()) return zone{};
  std::string_view name = want_string(a, 2, site, fname);
  try {
    return parse_zone(name, fname, 2);
  } catch (const bad_argument& e) {
    site.fail(e.what());
  }
}

value fn_parse_time(std::span<const value> a, const void* prepared, const node& site) {
  const auto* p = static_cast<const prepared_time*>(prepared);
  const zone z = zone_arg(a, p, site, "parse_time");
  if (a[0].is_null()) return value();
  std::string_view s = want_string(a, 0, site, "parse_time");
  if (a.size() < 2 || a[1].is_null()) {
    for (auto& f : iso_formats())
      if (auto t = parse_with(s, f, z)) return value(*t);
    site.fail(fmt::format("parse_time() cannot parse \"{}\" as an ISO 8601 time "
                          "(expected e.g. 2015-05-17T10:05:03Z); give a format", s));
  }
  std::string_view fs = want_string(a, 1, site, "parse_time");
  std::optional<std::int64_t> t;
  if (p && p->fmt) {
    t = parse_with(s, *p->fmt, z);
  } else {
    try {
      t = parse_with(s, compile_format(fs, "parse_time", 1), z);
    } catch (const bad_argument& e) {
      site.fail(e.what());
    }
  }
  if (t) return value(*t);
  site.fail(fmt::format("parse_time() cannot parse \"{}\" with format \"{}\"", s, fs));
}

// ---- format_time ----------------------------------------------------------------------

void two(std::string& out, std::int64_t v, char pad = '0') {
  out.push_back(v < 10 ? pad : static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

void offset_text(std::string& out, std::int64_t off, bool colon) {
  out.push_back(off < 0 ? '-' : '+');
  if (off < 0) off = -off;
  two(out, off / 3600);
  if (colon) out.push_back(':');
  two(out, off / 60 % 60);
}

std::string format_with(std::int64_t ms, const format& f, const zone& z) {
  const std::int64_t utc_s = floor_div(ms, 1000);
  const std::int64_t off = offset_of_utc(z, utc_s);
  const std::int64_t local_s = utc_s + off;
  const std::int64_t days = floor_div(local_s, 86400);
  const std::int64_t sod = local_s - days * 86400;
  const civil c = civil_from_days(days);
  const std::int64_t h = sod / 3600, mi = sod / 60 % 60, se = sod % 60, milli = ms - utc_s * 1000;
  std::string out;
  out.reserve(32);
  for (const item& it : f) {
    switch (it.directive) {
      case 0: out.push_back(it.literal); break;
      case 'Y':
        if (c.y >= 0 && c.y <= 9999) fmt::format_to(std::back_inserter(out), "{:04}", c.y);
        else fmt::format_to(std::back_inserter(out), "{}", c.y);
        break;
      case 'y': two(out, ((c.y % 100) + 100) % 100); break;
      case 'm': two(out, c.m); break;
      case 'd': two(out, c.d); break;
      case 'e': two(out, c.d, ' '); break;
      case 'j': fmt::format_to(std::back_inserter(out), "{:03}", days - days_from_civil(c.y, 1, 1) + 1); break;
      case 'H': two(out, h); break;
      case 'I': two(out, h % 12 == 0 ? 12 : h % 12); break;
      case 'M': two(out, mi); break;
      case 'S': two(out, se); break;
      case 'f': fmt::format_to(std::back_inserter(out), "{:03}", milli); break;
      case 'p': out.append(h < 12 ? "AM" : "PM"); break;
      case 'b': out.append(month_names[c.m - 1].substr(0, 3)); break;
      case 'B': out.append(month_names[c.m - 1]); break;
      case 'a': out.append(day_names[static_cast<std::size_t>(((days + 4) % 7 + 7) % 7)].substr(0, 3)); break;
      case 'A': out.append(day_names[static_cast<std::size_t>(((days + 4) % 7 + 7) % 7)]); break;
      case 'z': offset_text(out, off, false); break;
    }
  }
  return out;
}

value fn_format_time(std::span<const value> a, const void* prepared, const node& site) {
  const auto* p = static_cast<const prepared_time*>(prepared);
  const zone z = zone_arg(a, p, site, "format_time");
  if (a[0].is_null()) return value();
  if (!a[0].is_int()) type_fail(site, "format_time", a.size(), 0, "an int (ms since the epoch)", a[0]);
  const std::int64_t ms = a[0].as_int();
  if (a.size() < 2 || a[1].is_null()) {
    // ISO 8601 with milliseconds: 2015-05-17T10:05:03.000Z, or the zone's offset
    static const format iso = compile_format("%Y-%m-%dT%H:%M:%S.%f", "format_time", 1);
    std::string out = format_with(ms, iso, z);
    if (z.utc()) out.push_back('Z');
    else offset_text(out, offset_of_utc(z, floor_div(ms, 1000)), true);
    return value(out);
  }
  std::string_view fs = want_string(a, 1, site, "format_time");
  if (p && p->fmt) return value(format_with(ms, *p->fmt, z));
  try {
    return value(format_with(ms, compile_format(fs, "format_time", 1), z));
  } catch (const bad_argument& e) {
    site.fail(e.what());
  }
}

constexpr builtin_function table[] = {
    {.name = "format_time", .min_args = 1, .max_args = 3, .call = nullptr,
     .signature = "format_time(ms, format, zone)", .named = "ms,format,zone", .prepare = prepare_time,
     .call_prepared = fn_format_time},
    {.name = "parse_time", .min_args = 1, .max_args = 3, .call = nullptr, .signature = "parse_time(s, format, zone)",
     .named = "s,format,zone", .prepare = prepare_time, .call_prepared = fn_parse_time},
};

}  // namespace

std::span<const builtin_function> time_functions() { return table; }

}  // namespace weir::dsl::detail
