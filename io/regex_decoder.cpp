// parse_regex(pattern): named groups → object fields (see decoders.hpp), on
// RE2 through weir::io::regex (linear time, no recursion: no line length
// limit is needed to protect the stack).
#include <algorithm>

#include "weir/io/decoders.hpp"
#include "weir/io/detail/decoder_base.hpp"
#include "weir/io/regex.hpp"

namespace weir::io {
namespace {

class regex_decoder final : public detail::decoder_base {
public:
  regex_decoder(const std::string& pattern, error_policy p)
      : decoder_base(std::move(p)), re_(pattern, "parse_regex") {
    if (re_.names().empty())
      throw pipeline_error("parse_regex: the pattern has no named groups; name the parts to keep, e.g. "
                           "(?<status>\\d+)");
    for (auto& [name, g] : re_.names()) {
      groups_.emplace_back(value(name), g);
      last_ = std::max(last_, g);
    }
    spans_.resize(last_ + 1);
  }

  void decode(records& in, records& out) override {
    for (std::size_t i = 0; i < in.size(); ++i) {
      const value& r = in[i];
      if (!r.is_string()) {
        bad(r.to_json(), not_a_string(r), provenance(i));
        continue;
      }
      std::string_view s = r.as_string();
      if (!re_.search(s, spans_)) {
        bad(s, "does not match the pattern /" + re_.pattern() + "/", provenance(i));
        continue;
      }
      std::vector<field> f;
      f.reserve(groups_.size());
      for (auto& [name, g] : groups_) {
        const std::string_view sub = spans_[g];
        f.push_back({name, sub.data() ? value(sub) : value()});
      }
      out.push_back(value::object(std::move(f)));
    }
    consumed(in.size());
  }

  bool stateless() const override { return true; }

private:
  regex re_;
  std::vector<std::pair<value, std::size_t>> groups_;  // name, group number
  std::size_t last_ = 0;                               // highest named group number
  std::vector<std::string_view> spans_;
};

}  // namespace

operator_ptr make_regex_decoder(const std::string& pattern, error_policy policy) {
  return std::make_unique<regex_decoder>(pattern, std::move(policy));
}

}  // namespace weir::io
