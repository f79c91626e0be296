// parse_regex(pattern): named groups → object fields (see decoders.hpp).
// std::regex (ECMAScript) knows no named groups: `(?<name>` and `(?P<name>`
// are rewritten to plain capturing groups and their numbers remembered.
#include <cctype>
#include <regex>

#include "weir/io/decoders.hpp"
#include "weir/io/detail/decoder_base.hpp"

namespace weir::io {
namespace {

constexpr std::size_t max_regex_line = 32u << 10;

struct compiled_pattern {
  std::string ecmascript;
  std::vector<std::pair<std::string, std::size_t>> names;  // name, group number
};

compiled_pattern rewrite(const std::string& pat) {
  compiled_pattern c;
  std::size_t group = 0;
  bool in_class = false;
  for (std::size_t i = 0; i < pat.size(); ++i) {
    char ch = pat[i];
    if (ch == '\\' && i + 1 < pat.size()) {
      c.ecmascript += pat.substr(i, 2);
      ++i;
      continue;
    }
    if (in_class) {
      if (ch == ']') in_class = false;
      c.ecmascript.push_back(ch);
      continue;
    }
    if (ch == '[') {
      in_class = true;
      c.ecmascript.push_back(ch);
      if (i + 1 < pat.size() && pat[i + 1] == '^') c.ecmascript.push_back(pat[++i]);
      if (i + 1 < pat.size() && pat[i + 1] == ']') c.ecmascript.push_back(pat[++i]);  // literal ']'
      continue;
    }
    if (ch == '(') {
      if (i + 1 < pat.size() && pat[i + 1] == '?') {
        std::size_t n = i + 2;
        if (n < pat.size() && pat[n] == 'P') ++n;
        if (n < pat.size() && pat[n] == '<' && n + 1 < pat.size() && pat[n + 1] != '=' && pat[n + 1] != '!') {
          auto close = pat.find('>', n + 1);
          if (close == std::string::npos)
            throw pipeline_error("parse_regex: unterminated group name at character " + std::to_string(n + 1));
          std::string name = pat.substr(n + 1, close - n - 1);
          bool ok = !name.empty();
          for (char x : name) ok = ok && (std::isalnum(static_cast<unsigned char>(x)) || x == '_');
          if (!ok)
            throw pipeline_error("parse_regex: bad group name '" + name + "' at character " +
                                 std::to_string(n + 2) + " (letters, digits and _)");
          for (auto& [existing, g] : c.names)
            if (existing == name) throw pipeline_error("parse_regex: group name '" + name + "' used twice");
          c.names.emplace_back(name, ++group);
          c.ecmascript.push_back('(');
          i = close;
          continue;
        }
        c.ecmascript.push_back(ch);  // (?: (?= (?! : not capturing
        continue;
      }
      ++group;
    }
    c.ecmascript.push_back(ch);
  }
  return c;
}

class regex_decoder final : public detail::decoder_base {
public:
  regex_decoder(const std::string& pattern, error_policy p) : decoder_base(std::move(p)), pattern_(pattern) {
    compiled_pattern c = rewrite(pattern);
    if (c.names.empty())
      throw pipeline_error("parse_regex: the pattern has no named groups; name the parts to keep, e.g. "
                           "(?<status>\\d+)");
    try {
      re_.assign(c.ecmascript, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      throw pipeline_error("parse_regex: invalid pattern /" + pattern + "/: " + e.what());
    }
    for (auto& [name, g] : c.names) groups_.emplace_back(value(name), g);
  }

  void decode(records& in, records& out) override {
    for (std::size_t i = 0; i < in.size(); ++i) {
      const value& r = in[i];
      if (!r.is_string()) {
        bad(r.to_json(), not_a_string(r), provenance(i));
        continue;
      }
      std::string_view s = r.as_string();
      if (s.size() > max_regex_line) {
        bad(s, "line of " + std::to_string(s.size()) + " bytes is longer than parse_regex's limit of " +
                   std::to_string(max_regex_line),
            provenance(i));
        continue;
      }
      if (!std::regex_search(s.begin(), s.end(), m_, re_)) {
        bad(s, "does not match the pattern /" + pattern_ + "/", provenance(i));
        continue;
      }
      std::vector<field> f;
      f.reserve(groups_.size());
      for (auto& [name, g] : groups_) {
        const auto& sub = m_[g];
        f.push_back({name, sub.matched ? value(s.substr(static_cast<std::size_t>(sub.first - s.begin()),
                                                         static_cast<std::size_t>(sub.length())))
                                       : value()});
      }
      out.push_back(value::object(std::move(f)));
    }
    consumed(in.size());
  }

  bool stateless() const override { return true; }

private:
  std::string pattern_;
  std::regex re_;
  std::vector<std::pair<value, std::size_t>> groups_;
  std::match_results<std::string_view::const_iterator> m_;
};

}  // namespace

operator_ptr make_regex_decoder(const std::string& pattern, error_policy policy) {
  return std::make_unique<regex_decoder>(pattern, std::move(policy));
}

}  // namespace weir::io
