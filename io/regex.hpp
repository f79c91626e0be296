// weir — compiled regular expressions on RE2: the one regex engine of weir
// (parse_regex, and every expression function that takes a pattern).
//
// RE2 (Google's automata-based engine) matches in time linear in the text
// and uses no recursion, so no pattern and no input can take exponential
// time or exhaust the stack. The price: RE2 has no backreferences (`\1`,
// `\k<name>`) and no lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`); a pattern
// using them is rejected when it is compiled, with a message saying so.
//
// Syntax: RE2's (Perl-like: `\d \w \s \b`, `[[:alpha:]]`, `(?i)`, `(?:...)`,
// lazy `*?`), matching leftmost-first like Perl and ECMAScript. Named groups
// are written `(?<name>...)` or `(?P<name>...)`. Texts are matched as UTF-8
// (`.` is one character; a byte that is not valid UTF-8 matches no `.`).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace weir::io {

/// One compiled pattern. Immutable after construction.
/// @thread Every const member may be called from many threads at once.
class regex {
public:
  /// Compiles `pattern`. `what` prefixes every error message (e.g.
  /// "parse_regex", "matches()").
  /// @errors pipeline_error "<what>: invalid pattern /P/: <reason>" — a
  ///         syntax error, a backreference or lookaround ("... lookahead
  ///         '(?=' is not supported: weir's regex engine (RE2) runs in linear
  ///         time and has no lookaround"), a duplicate or malformed group
  ///         name, or a pattern too large for RE2's 8 MiB program budget.
  regex(std::string_view pattern, std::string_view what);
  ~regex();
  regex(regex&&) noexcept;
  regex& operator=(regex&&) noexcept;

  /// The pattern as written.
  const std::string& pattern() const noexcept { return pattern_; }

  /// Number of capturing groups (named or not); group 0 is the whole match.
  std::size_t groups() const noexcept { return groups_; }

  /// Named groups in pattern order: (name, group number >= 1).
  const std::vector<std::pair<std::string, std::size_t>>& names() const noexcept { return names_; }

  /// Searches `text` for the leftmost match (unanchored; write `^...$` for a
  /// whole-text match). On a match, `spans[i]` (i < spans.size(), at most
  /// groups() + 1) is the text of group i, with data() == nullptr for a
  /// group that took no part in the match; without a match every span is
  /// so. O(text.size() × pattern size).
  bool search(std::string_view text, std::span<std::string_view> spans) const;

  /// Like search(), but the match must span the whole of `text` (as if the
  /// pattern were written ^(?:...)$).
  bool full_match(std::string_view text, std::span<std::string_view> spans = {}) const;

  /// True if the pattern matches somewhere in `text`.
  bool contains(std::string_view text) const;

private:
  bool match(std::string_view text, int anchor, std::span<std::string_view> spans) const;

  std::string pattern_;
  std::unique_ptr<re2::RE2> re_;
  std::size_t groups_ = 0;
  std::vector<std::pair<std::string, std::size_t>> names_;
};

}  // namespace weir::io
