// libFuzzer target: parse_log. Each line of the input is an access-log line
// for both formats; a refused line must come with a reason.
#include <cstdlib>

#include "fuzz_util.hpp"
#include "weir/io/decoders.hpp"

using namespace weir;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (auto& line : fuzz::lines(fuzz::text(data, size))) {
    for (auto fmt : {io::log_format::combined, io::log_format::common}) {
      value v;
      std::string reason;
      if (io::parse_access_log(line.as_string(), fmt, v, reason)) {
        if (!v.is_object()) std::abort();
      } else if (reason.empty()) {
        std::abort();
      }
    }
  }
  return 0;
}
