// reduce_by_key on a stream that is not of pairs.
// expect: weir::stream<T>::reduce_by_key needs a stream of std::pair<K, V>
#include <cstdint>
#include <utility>

#include <weir/api/stream.hpp>

void build(weir::streaming_context& ssc) {
  auto lines = weir::as_stream<std::string>(ssc.text_file("in.txt"));
#ifdef WEIR_COMPILE_FAIL_OK
  lines.map([](const std::string& w) { return std::pair{w, std::int64_t{1}}; })
      .reduce_by_key([](std::int64_t a, std::int64_t b) { return a + b; })
      .print();
#else
  lines.reduce_by_key([](std::int64_t a, std::int64_t b) { return a + b; }).print();
#endif
}
