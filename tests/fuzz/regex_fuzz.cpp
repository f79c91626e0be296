// libFuzzer target: parse_regex. The input's first line is a pattern (RE2
// syntax with weir's named groups), the other lines the records. A pattern
// is either refused with a pipeline_error or decodes every line into an
// object or a bad record, in linear time (libFuzzer's -timeout catches
// anything slower).
#include <cstdlib>
#include <memory>

#include "fuzz_util.hpp"
#include "weir/io/decoders.hpp"
#include "weir/io/regex.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  records in = fuzz::lines(fuzz::text(data, size));
  const std::string pattern(in.front().as_string());
  in.erase(in.begin());
  operator_ptr op;
  try {
    op = io::make_regex_decoder(pattern, fuzz::counting(std::make_shared<std::uint64_t>(0)));
  } catch (const pipeline_error&) {
    return 0;
  }
  operator_harness h(std::move(op));
  records out = h.push(in);
  for (auto& r : out)
    if (!r.is_object()) std::abort();
  // the wrapper alone: every group's span lies inside the text
  io::regex re(pattern, "fuzz");
  std::vector<std::string_view> spans(re.groups() + 1);
  for (auto& r : in) {
    std::string_view t = r.as_string();
    if (re.search(t, spans) != re.contains(t)) std::abort();
    for (auto s : spans)
      if (s.data() && (s.data() < t.data() || s.data() + s.size() > t.data() + t.size())) std::abort();
  }
  return 0;
}
