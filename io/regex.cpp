// weir::io::regex: RE2 behind a small interface (see regex.hpp). Owns the
// translation of `(?<name>` to RE2's `(?P<name>` and the messages for the
// constructs RE2 refuses (backreferences, lookaround).
#include "weir/io/regex.hpp"

#include <algorithm>
#include <cctype>

#include <re2/re2.h>

#include "weir/operators/stream_operator.hpp"

namespace weir::io {
namespace {

[[noreturn]] void refuse(std::string_view what, std::string_view pattern, const std::string& why) {
  throw pipeline_error(std::string(what) + ": invalid pattern /" + std::string(pattern) + "/: " + why);
}

std::string unsupported(const std::string& construct, std::size_t at, const char* kind) {
  return construct + " at character " + std::to_string(at + 1) + " is not supported: weir's regex engine (RE2) " +
         "runs in linear time and has no " + kind;
}

/// RE2's syntax for `pattern`: `(?<name>` becomes `(?P<name>`; backreferences
/// and lookaround are refused here, by name, rather than by RE2's terser
/// "invalid escape sequence" / "invalid perl operator".
std::string to_re2(std::string_view pat, std::string_view what) {
  std::string out;
  out.reserve(pat.size() + 8);
  std::vector<std::string> names;
  bool in_class = false;
  for (std::size_t i = 0; i < pat.size(); ++i) {
    const char ch = pat[i];
    if (ch == '\\' && i + 1 < pat.size()) {
      const char n = pat[i + 1];
      if (!in_class && n >= '1' && n <= '9')
        refuse(what, pat, unsupported(std::string("backreference \\") + n, i, "backreferences"));
      if (!in_class && n == 'k' && i + 2 < pat.size() && (pat[i + 2] == '<' || pat[i + 2] == '{'))
        refuse(what, pat, unsupported("backreference \\k", i, "backreferences"));
      out.append(pat.substr(i, 2));
      ++i;
      continue;
    }
    if (in_class) {
      if (ch == ']') in_class = false;
      out.push_back(ch);
      continue;
    }
    if (ch == '[') {
      in_class = true;
      out.push_back(ch);
      if (i + 1 < pat.size() && pat[i + 1] == '^') out.push_back(pat[++i]);
      if (i + 1 < pat.size() && pat[i + 1] == ']') out.push_back(pat[++i]);  // a literal ']'
      continue;
    }
    if (ch == '(' && i + 2 < pat.size() && pat[i + 1] == '?') {
      const std::string_view rest = pat.substr(i + 2);
      if (rest.starts_with("=")) refuse(what, pat, unsupported("lookahead '(?='", i, "lookaround"));
      if (rest.starts_with("!")) refuse(what, pat, unsupported("negative lookahead '(?!'", i, "lookaround"));
      if (rest.starts_with("<=")) refuse(what, pat, unsupported("lookbehind '(?<='", i, "lookaround"));
      if (rest.starts_with("<!")) refuse(what, pat, unsupported("negative lookbehind '(?<!'", i, "lookaround"));
      if (rest.starts_with(">")) refuse(what, pat, unsupported("atomic group '(?>'", i, "atomic groups"));
      if (rest.starts_with("<") || rest.starts_with("P<")) {  // (?<name> → (?P<name>
        const std::size_t open = pat.find('<', i);
        const std::size_t close = pat.find('>', open + 1);
        if (close == std::string_view::npos)
          throw pipeline_error(std::string(what) + ": unterminated group name at character " +
                               std::to_string(open + 2));
        const std::string name(pat.substr(open + 1, close - open - 1));
        bool ok = !name.empty();
        for (char x : name) ok = ok && (std::isalnum(static_cast<unsigned char>(x)) || x == '_');
        if (!ok)
          throw pipeline_error(std::string(what) + ": bad group name '" + name + "' at character " +
                               std::to_string(open + 2) + " (letters, digits and _)");
        if (std::find(names.begin(), names.end(), name) != names.end())
          throw pipeline_error(std::string(what) + ": group name '" + name + "' used twice");
        names.push_back(name);
        out += "(?P<" + name + ">";
        i = close;
        continue;
      }
    }
    out.push_back(ch);
  }
  return out;
}

}  // namespace

regex::regex(std::string_view pattern, std::string_view what) : pattern_(pattern) {
  const std::string translated = to_re2(pattern, what);
  RE2::Options o;
  o.set_log_errors(false);  // errors are reported here, not on stderr
  re_ = std::make_unique<RE2>(translated, o);
  if (!re_->ok()) {
    std::string why = re_->error();
    if (re_->error_code() == RE2::ErrorPatternTooLarge)
      why = "the pattern is too large (its compiled program exceeds RE2's 8 MiB budget; repeat counts such as "
            "{1000} multiply its size)";
    refuse(what, pattern, why);
  }
  groups_ = static_cast<std::size_t>(re_->NumberOfCapturingGroups());
  for (auto& [name, index] : re_->NamedCapturingGroups()) names_.emplace_back(name, static_cast<std::size_t>(index));
  std::sort(names_.begin(), names_.end(), [](auto& a, auto& b) { return a.second < b.second; });
}

regex::~regex() = default;
regex::regex(regex&&) noexcept = default;
regex& regex::operator=(regex&&) noexcept = default;

bool regex::search(std::string_view text, std::span<std::string_view> spans) const {
  return match(text, RE2::UNANCHORED, spans);
}

bool regex::full_match(std::string_view text, std::span<std::string_view> spans) const {
  return match(text, RE2::ANCHOR_BOTH, spans);
}

bool regex::match(std::string_view text, int anchor, std::span<std::string_view> spans) const {
  const std::size_t n = std::min(spans.size(), groups_ + 1);
  // StringPiece is std::string_view's layout twin; a small fixed array keeps
  // the common case free of allocations
  constexpr std::size_t small = 16;
  re2::StringPiece fixed[small];
  std::vector<re2::StringPiece> heap;
  re2::StringPiece* sub = fixed;
  if (n > small) {
    heap.resize(n);
    sub = heap.data();
  }
  if (!re_->Match(text, 0, text.size(), static_cast<RE2::Anchor>(anchor), sub, static_cast<int>(n))) {
    for (auto& s : spans) s = std::string_view();
    return false;
  }
  for (std::size_t i = 0; i < n; ++i) spans[i] = std::string_view(sub[i].data(), sub[i].size());
  for (std::size_t i = n; i < spans.size(); ++i) spans[i] = std::string_view();
  return true;
}

bool regex::contains(std::string_view text) const {
  return re_->Match(text, 0, text.size(), RE2::UNANCHORED, nullptr, 0);
}

}  // namespace weir::io
