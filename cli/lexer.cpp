// weir — the DSL's tokenizer (lexer.hpp), duration literals, and the text of
// source locations and dsl_error.
#include "weir/cli/lexer.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace weir::dsl {

std::string source_location::str() const {
  return fmt::format("{}:{}:{}", file ? *file : std::string("<input>"), line, column);
}

dsl_error::dsl_error(source_location where, const std::string& message)
    : std::runtime_error(where.str() + ": " + message),
      where_(std::move(where)),
      message_(message) {}

std::string describe(const token& t) {
  switch (t.kind) {
    case tok::newline: return "end of line";
    case tok::end: return "end of input";
    case tok::string: return "string " + t.text;
    default: return "'" + t.text + "'";
  }
}

bool parse_duration(std::string_view text, std::int64_t& ms) {
  // exact decimal arithmetic: "1.1s" is 1100 ms, not 1100.0000000000002
  std::size_t i = 0;
  std::int64_t whole = 0, frac = 0, frac_scale = 1;
  bool digits = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (__builtin_mul_overflow(whole, 10, &whole) || __builtin_add_overflow(whole, text[i] - '0', &whole))
      return false;
    digits = true;
    ++i;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    bool frac_digits = false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (frac_scale >= 1'000'000'000) return false;
      frac = frac * 10 + (text[i] - '0');
      frac_scale *= 10;
      frac_digits = true;
      ++i;
    }
    if (!frac_digits) return false;
  }
  if (!digits) return false;
  std::string_view unit = text.substr(i);
  std::int64_t scale;
  if (unit == "ms") scale = 1;
  else if (unit == "s") scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else return false;
  std::int64_t total;
  if (__builtin_mul_overflow(whole, scale, &total)) return false;
  std::int64_t f = frac * scale;  // frac < 1e9, scale <= 3.6e6: fits
  if (f % frac_scale != 0) return false;
  if (__builtin_add_overflow(total, f / frac_scale, &total)) return false;
  ms = total;
  return true;
}

namespace {

/// For a `text` parse_duration refused: true unless its whole part alone
/// exceeds 64-bit milliseconds (then the complaint is the range, not the
/// fraction).
bool duration_fits(std::string_view text) {
  std::size_t i = 0;
  std::uint64_t whole = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
    if (__builtin_mul_overflow(whole, 10u, &whole) || __builtin_add_overflow(whole, unsigned(text[i] - '0'), &whole))
      return false;
  while (i < text.size() && (text[i] == '.' || (text[i] >= '0' && text[i] <= '9'))) ++i;
  const std::string_view unit = text.substr(i);
  const std::uint64_t scale = unit == "s" ? 1000 : unit == "m" ? 60'000 : unit == "h" ? 3'600'000 : 1;
  std::uint64_t ms = 0;
  return !__builtin_mul_overflow(whole, scale, &ms) &&
         ms <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
}

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class lexer {
public:
  lexer(std::string_view text, const std::string& file)
      : s_(text), file_(std::make_shared<const std::string>(file)) {
    // a UTF-8 byte order mark (editors on Windows write one) is not part of the script
    if (s_.starts_with("\xEF\xBB\xBF")) s_.remove_prefix(3);
  }

  std::vector<token> run() {
    std::vector<token> raw;
    for (;;) {
      token t = next();
      bool done = t.kind == tok::end;
      raw.push_back(std::move(t));
      if (done) break;
    }
    return filter_newlines(std::move(raw));
  }

private:
  /// The location of pos_; the column (in UTF-8 characters) is counted on
  /// from the previous call on the same line, so a long line costs linear
  /// time, not quadratic.
  source_location here() const {
    if (col_line_start_ != line_start_ || col_pos_ > pos_) {
      col_line_start_ = col_pos_ = line_start_;
      col_ = 1;
    }
    for (; col_pos_ < pos_; ++col_pos_)
      if ((static_cast<unsigned char>(s_[col_pos_]) & 0xC0) != 0x80) ++col_;
    return {file_, line_, col_};
  }

  [[noreturn]] void fail(const source_location& at, const std::string& msg) {
    throw dsl_error(at, msg);
  }

  token make(tok k, std::size_t start, source_location at) {
    token t;
    t.kind = k;
    t.text = std::string(s_.substr(start, pos_ - start));
    t.loc = std::move(at);
    return t;
  }

  token next() {
    // skip blanks and comments
    for (;;) {
      if (pos_ >= s_.size()) break;
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
    source_location at = here();
    std::size_t start = pos_;
    if (pos_ >= s_.size()) {
      token t;
      t.kind = tok::end;
      t.loc = at;
      return t;
    }
    char c = s_[pos_];
    if (c == '\n') {
      ++pos_;
      token t = make(tok::newline, start, at);
      ++line_;
      line_start_ = pos_;
      return t;
    }
    if (is_ident_start(c)) return identifier(start, at);
    if (is_digit(c)) return number(start, at);
    if (c == '"') return string_literal(start, at);
    ++pos_;
    auto peek_is = [&](char d) {
      if (pos_ < s_.size() && s_[pos_] == d) {
        ++pos_;
        return true;
      }
      return false;
    };
    switch (c) {
      case '(': return make(tok::lparen, start, at);
      case ')': return make(tok::rparen, start, at);
      case '[': return make(tok::lbracket, start, at);
      case ']': return make(tok::rbracket, start, at);
      case '{': return make(tok::lbrace, start, at);
      case '}': return make(tok::rbrace, start, at);
      case ',': return make(tok::comma, start, at);
      case ';': return make(tok::semicolon, start, at);
      case '.': return make(tok::dot, start, at);
      case ':': return make(tok::colon, start, at);
      case '|': return make(tok::pipe, start, at);
      case '+': return make(tok::plus, start, at);
      case '-': return make(tok::minus, start, at);
      case '*': return make(tok::star, start, at);
      case '/': return make(tok::slash, start, at);
      case '%': return make(tok::percent, start, at);
      case '=':
        if (peek_is('=')) return make(tok::eq, start, at);
        if (peek_is('>')) return make(tok::arrow, start, at);
        return make(tok::assign, start, at);
      case '!':
        if (peek_is('=')) return make(tok::ne, start, at);
        fail(at, "unexpected character '!' (use 'not' for negation, '!=' for inequality)");
      case '<':
        if (peek_is('=')) return make(tok::le, start, at);
        return make(tok::lt, start, at);
      case '>':
        if (peek_is('=')) return make(tok::ge, start, at);
        return make(tok::gt, start, at);
      case '&':
        fail(at, "unexpected character '&' (use 'and')");
      case '\'':
        fail(at, "strings are written in double quotes: \"...\"");
      default: break;
    }
    // one whole UTF-8 character for the message
    std::size_t n = 1;
    auto u = static_cast<unsigned char>(c);
    if (u >= 0xF0) n = 4;
    else if (u >= 0xE0) n = 3;
    else if (u >= 0xC0) n = 2;
    fail(at, fmt::format("unexpected character '{}'", s_.substr(start, n)));
  }

  token identifier(std::size_t start, source_location at) {
    while (pos_ < s_.size() && is_ident_char(s_[pos_])) ++pos_;
    token t = make(tok::identifier, start, std::move(at));
    static constexpr std::pair<std::string_view, tok> keywords[] = {
        {"_", tok::underscore},  {"let", tok::kw_let},     {"set", tok::kw_set},
        {"and", tok::kw_and},    {"or", tok::kw_or},       {"not", tok::kw_not},
        {"true", tok::kw_true},  {"false", tok::kw_false}, {"null", tok::kw_null},
    };
    for (auto& [word, k] : keywords)
      if (t.text == word) t.kind = k;
    return t;
  }

  token number(std::size_t start, source_location at) {
    bool is_real = false;
    while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
      is_real = true;
      ++pos_;
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      std::size_t p = pos_ + 1;
      if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
      if (p < s_.size() && is_digit(s_[p])) {
        is_real = true;
        pos_ = p;
        while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
      }
    }
    std::size_t num_end = pos_;
    while (pos_ < s_.size() && is_ident_char(s_[pos_])) ++pos_;
    token t = make(tok::integer, start, at);
    std::string_view num = s_.substr(start, num_end - start);
    if (pos_ != num_end) {
      std::string_view unit = s_.substr(num_end, pos_ - num_end);
      bool known_unit = unit == "ms" || unit == "s" || unit == "m" || unit == "h";
      if (!known_unit)
        fail(at, fmt::format("invalid number '{}' (durations are written 500ms, 10s, 5m, 1h)",
                             t.text));
      t.kind = tok::duration;
      if (!parse_duration(t.text, t.ival))
        fail(at, duration_fits(t.text)
                     ? fmt::format("invalid duration '{}': not a whole number of milliseconds", t.text)
                     : fmt::format("duration '{}' is out of range (at most {} ms, about 292 million years)",
                                   t.text, std::numeric_limits<std::int64_t>::max()));
      return t;
    }
    if (is_real) {
      t.kind = tok::real;
      auto r = std::from_chars(num.data(), num.data() + num.size(), t.dval);
      if (r.ec != std::errc()) fail(at, fmt::format("number '{}' is out of range", t.text));
      return t;
    }
    auto r = std::from_chars(num.data(), num.data() + num.size(), t.ival);
    if (r.ec != std::errc())
      fail(at, fmt::format("integer '{}' is out of range (64-bit signed)", t.text));
    return t;
  }

  unsigned hex4(source_location& at) {
    if (pos_ + 4 > s_.size()) fail(at, "bad \\u escape in string: expected 4 hex digits");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
      else fail(at, "bad \\u escape in string: expected 4 hex digits");
    }
    return v;
  }

  token string_literal(std::size_t start, source_location at) {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= s_.size() || s_[pos_] == '\n') fail(at, "unterminated string");
      char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      source_location esc = here();
      ++pos_;
      if (pos_ >= s_.size()) fail(at, "unterminated string");
      char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case '0': out.push_back('\0'); break;
        case 'u': {
          std::uint32_t cp = hex4(esc);
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (pos_ + 2 <= s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
              pos_ += 2;
              std::uint32_t lo = hex4(esc);
              if (lo < 0xDC00 || lo > 0xDFFF) fail(esc, "bad \\u escape: unpaired surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              fail(esc, "bad \\u escape: unpaired surrogate");
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail(esc, "bad \\u escape: unpaired surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail(esc, fmt::format("unknown escape '\\{}' in string (known: \\\" \\\\ \\n \\t \\r \\uXXXX)",
                                e));
      }
    }
    token t = make(tok::string, start, std::move(at));
    t.str = std::move(out);
    return t;
  }

  static bool can_end_statement(tok k) {
    switch (k) {
      case tok::identifier: case tok::underscore: case tok::integer: case tok::real:
      case tok::duration: case tok::string: case tok::kw_true: case tok::kw_false:
      case tok::kw_null: case tok::rparen: case tok::rbracket: case tok::rbrace:
        return true;
      default:
        return false;
    }
  }

  static std::vector<token> filter_newlines(std::vector<token> raw) {
    std::vector<token> out;
    out.reserve(raw.size());
    int depth = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      token& t = raw[i];
      switch (t.kind) {
        case tok::lparen: case tok::lbracket: case tok::lbrace: ++depth; break;
        case tok::rparen: case tok::rbracket: case tok::rbrace:
          if (depth > 0) --depth;
          break;
        default: break;
      }
      if (t.kind == tok::newline) {
        if (depth > 0 || out.empty() || !can_end_statement(out.back().kind)) continue;
        std::size_t j = i + 1;
        while (j < raw.size() && raw[j].kind == tok::newline) ++j;
        if (j < raw.size() && raw[j].kind == tok::pipe) continue;
        t.text = "\\n";
      }
      out.push_back(std::move(t));
    }
    return out;
  }

  std::string_view s_;
  std::shared_ptr<const std::string> file_;
  std::size_t pos_ = 0;
  std::size_t line_start_ = 0;
  int line_ = 1;
  mutable std::size_t col_line_start_ = 0, col_pos_ = 0;  // here()'s memo
  mutable int col_ = 1;
};

}  // namespace

std::vector<token> tokenize(std::string_view text, const std::string& file) {
  return lexer(text, file).run();
}

}  // namespace weir::dsl
