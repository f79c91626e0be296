// A reduce function with one parameter.
// expect: weir::stream<std::pair<K, V>>::reduce_by_key expects a callable (V, V) -> V
#include <cstdint>
#include <utility>

#include <weir/api/stream.hpp>

void build(weir::streaming_context& ssc) {
  auto words = weir::as_stream<std::string>(ssc.text_file("in.txt"))
                   .map([](const std::string& w) { return std::pair{w, std::int64_t{1}}; });
#ifdef WEIR_COMPILE_FAIL_OK
  words.reduce_by_key([](std::int64_t a, std::int64_t b) { return a + b; }).print();
#else
  words.reduce_by_key([](std::int64_t a) { return a; }).print();
#endif
}
