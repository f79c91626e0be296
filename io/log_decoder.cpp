// parse_log("apache" | "common"): a hand-written Apache access-log parser
// (see decoders.hpp). One pass over the line, no regex, no allocation besides
// the output value (strings without escapes are copied straight from the line).
#include <array>
#include <cstdio>
#include <cstring>

#include "weir/io/decoders.hpp"
#include "weir/io/detail/decoder_base.hpp"

namespace weir::io {

std::int64_t civil_to_epoch_ms(int y, int m, int d, int hh, int mm, int ss) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153u * static_cast<unsigned>(m + (m > 2 ? -3 : 9)) + 2u) / 5u + static_cast<unsigned>(d) - 1u;
  const unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
  const std::int64_t days = era * 146097 + static_cast<std::int64_t>(doe) - 719468;
  return ((days * 24 + hh) * 60 + mm) * 60'000 + static_cast<std::int64_t>(ss) * 1000;
}

namespace {

class log_parser {
public:
  log_parser(std::string_view line, std::string& reason) : s_(line), reason_(reason) {}

  bool run(log_format fmt, value& out) {
    std::string_view ip, ident, user;
    if (!token(ip, "the client address")) return false;
    if (!space("after the client address")) return false;
    if (!token(ident, "the identity (%l)")) return false;
    if (!space("after the identity (%l)")) return false;
    if (!token(user, "the user (%u)")) return false;
    if (!space("after the user (%u)")) return false;
    std::int64_t t = 0;
    if (!time(t)) return false;
    if (!space("after the time")) return false;
    std::string_view req;
    std::string req_buf;
    if (!quoted(req, req_buf, "the request line")) return false;
    if (!space("after the request line")) return false;
    std::int64_t status = 0, bytes = 0;
    if (!number(status, false, "the status code")) return false;
    if (!space("after the status code")) return false;
    if (!number(bytes, true, "the response size (digits or '-')")) return false;

    std::string_view ref, agent;
    std::string ref_buf, agent_buf;
    if (fmt == log_format::combined) {
      if (!space("after the response size")) return false;
      if (!quoted(ref, ref_buf, "the referrer")) return false;
      if (!space("after the referrer")) return false;
      if (!quoted(agent, agent_buf, "the user agent")) return false;
    }
    // Anything after a space is an extra field Apache may log (%D, %{X}i, ...).
    if (p_ < s_.size() && s_[p_] != ' ' && s_[p_] != '\t')
      return expected(fmt == log_format::combined ? "a space or end of line after the user agent"
                                                  : "a space or end of line after the response size");

    // request line: METHOD SP PATH SP PROTOCOL
    // empty views into the line, never null ones (value(string_view) copies with memcpy)
    std::string_view method = req, path = req.substr(req.size()), protocol = path;
    if (auto a = req.find(' '); a != std::string_view::npos) {
      method = req.substr(0, a);
      auto rest = req.substr(a + 1);
      auto b = rest.rfind(' ');
      if (b == std::string_view::npos) {
        path = rest;
      } else {
        path = rest.substr(0, b);
        protocol = rest.substr(b + 1);
      }
    }
    std::vector<field> f;
    f.reserve(fmt == log_format::combined ? 10 : 8);
    f.push_back({value("ip"), value(ip)});
    f.push_back({value("user"), value(user)});
    f.push_back({value("time"), value(t)});
    f.push_back({value("method"), value(method)});
    f.push_back({value("path"), value(path)});
    f.push_back({value("protocol"), value(protocol)});
    f.push_back({value("status"), value(status)});
    f.push_back({value("bytes"), value(bytes)});
    if (fmt == log_format::combined) {
      f.push_back({value("referrer"), value(ref)});
      f.push_back({value("agent"), value(agent)});
    }
    out = value::object(std::move(f));
    return true;
  }

private:
  static std::string shown(char c) {
    if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
    return std::string("byte ") + buf;
  }

  bool expected(std::string_view what) {
    reason_ = "column " + std::to_string(p_ + 1) + ": expected ";
    reason_ += what;
    reason_ += ", found ";
    reason_ += p_ < s_.size() ? shown(s_[p_]) : std::string("end of line");
    return false;
  }

  bool token(std::string_view& out, std::string_view what) {
    std::size_t b = p_;
    while (p_ < s_.size() && s_[p_] != ' ') ++p_;
    if (p_ == b) return expected(what);
    out = s_.substr(b, p_ - b);
    return true;
  }

  bool space(std::string_view after) {
    if (p_ < s_.size() && s_[p_] == ' ') {
      ++p_;
      return true;
    }
    return expected(std::string("a space ") + std::string(after));
  }

  bool digits(int n, int& v, std::string_view what) {
    v = 0;
    for (int i = 0; i < n; ++i, ++p_) {
      if (p_ >= s_.size() || s_[p_] < '0' || s_[p_] > '9') return expected(what);
      v = v * 10 + (s_[p_] - '0');
    }
    return true;
  }

  bool lit(char c, std::string_view what) {
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return expected(what);
  }

  // [17/May/2015:10:05:03 +0000]
  bool time(std::int64_t& t) {
    if (!lit('[', "'[' opening the time")) return false;
    int day, year, hh, mm, ss, zh, zm;
    const std::size_t ds = p_;
    if (!digits(2, day, "a 2-digit day")) return false;
    if (!lit('/', "'/' after the day")) return false;
    static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int month = 0;
    if (p_ + 3 <= s_.size())
      for (int i = 0; i < 12; ++i)
        if (std::memcmp(s_.data() + p_, months[static_cast<std::size_t>(i)], 3) == 0) month = i + 1;
    if (month == 0) return expected("a month name (Jan ... Dec)");
    p_ += 3;
    if (!lit('/', "'/' after the month")) return false;
    if (!digits(4, year, "a 4-digit year")) return false;
    if (!lit(':', "':' after the year")) return false;
    if (!digits(2, hh, "2-digit hours")) return false;
    if (!lit(':', "':' after the hours")) return false;
    if (!digits(2, mm, "2-digit minutes")) return false;
    if (!lit(':', "':' after the minutes")) return false;
    if (!digits(2, ss, "2-digit seconds")) return false;
    if (!lit(' ', "a space before the zone offset")) return false;
    int sign = 0;
    if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) sign = s_[p_++] == '-' ? -1 : 1;
    if (sign == 0) return expected("a zone offset like +0000");
    if (!digits(2, zh, "a zone offset like +0000")) return false;
    if (!digits(2, zm, "a zone offset like +0000")) return false;
    if (!lit(']', "']' closing the time")) return false;
    static constexpr int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (day < 1 || day > mdays[month - 1] || hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59) {
      reason_ = "column " + std::to_string(ds + 1) + ": invalid date or time " +
                std::string(s_.substr(ds, p_ - 1 - ds));
      return false;
    }
    t = civil_to_epoch_ms(year, month, day, hh, mm, ss) - sign * (zh * 60 + zm) * 60'000LL;
    return true;
  }

  // "..." with \" and \\ escapes (Apache's escaping of %r and %i).
  bool quoted(std::string_view& out, std::string& buf, std::string_view what) {
    std::string open = "'\"' opening ";
    open += what;
    if (!lit('"', open)) return false;
    std::size_t b = p_;
    bool escaped = false;
    while (p_ < s_.size() && s_[p_] != '"') {
      if (s_[p_] == '\\' && p_ + 1 < s_.size()) {
        escaped = true;
        p_ += 2;
        continue;
      }
      ++p_;
    }
    if (p_ >= s_.size()) {
      std::string close = "'\"' closing ";
      close += what;
      return expected(close);
    }
    out = s_.substr(b, p_ - b);
    ++p_;
    if (escaped) {
      buf.reserve(out.size());
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\\' && i + 1 < out.size() && (out[i + 1] == '"' || out[i + 1] == '\\')) ++i;
        buf.push_back(out[i]);
      }
      out = buf;
    }
    return true;
  }

  bool number(std::int64_t& v, bool dash_ok, std::string_view what) {
    if (dash_ok && p_ < s_.size() && s_[p_] == '-') {
      ++p_;
      v = 0;
      return true;
    }
    std::size_t b = p_;
    v = 0;
    while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') {
      if (p_ - b >= 18) return expected("a number of at most 18 digits");
      v = v * 10 + (s_[p_] - '0');
      ++p_;
    }
    if (p_ == b) return expected(what);
    return true;
  }

  std::string_view s_;
  std::size_t p_ = 0;
  std::string& reason_;
};

class log_decoder final : public detail::decoder_base {
public:
  log_decoder(log_format f, error_policy p) : decoder_base(std::move(p)), fmt_(f) {}

  void decode(records& in, records& out) override {
    out.reserve(out.size() + in.size());
    value v;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const value& r = in[i];
      if (!r.is_string()) {
        bad(r.to_json(), not_a_string(r), provenance(i));
        continue;
      }
      if (parse_access_log(r.as_string(), fmt_, v, reason_)) out.push_back(std::move(v));
      else bad(r.as_string(), reason_, provenance(i));
    }
    consumed(in.size());
  }

  bool stateless() const override { return true; }

private:
  log_format fmt_;
  std::string reason_;
};

}  // namespace

bool parse_access_log(std::string_view line, log_format fmt, value& out, std::string& reason) {
  return log_parser(line, reason).run(fmt, out);
}

operator_ptr make_log_decoder(log_format fmt, error_policy policy) {
  return std::make_unique<log_decoder>(fmt, std::move(policy));
}

}  // namespace weir::io
