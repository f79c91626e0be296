// for_each_batch with a per-record callable.
// expect: weir::stream<T>::for_each_batch expects a callable (std::int64_t batch_time_ms, const std::vector<T>& records) -> void
#include <vector>

#include <weir/api/stream.hpp>

void build(weir::streaming_context& ssc) {
  auto lines = weir::as_stream<std::string>(ssc.text_file("in.txt"));
#ifdef WEIR_COMPILE_FAIL_OK
  lines.for_each_batch([](std::int64_t, const std::vector<std::string>&) {});
#else
  lines.for_each_batch([](const std::string&) {});
#endif
}
