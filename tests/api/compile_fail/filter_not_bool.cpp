// A filter lambda returning a string.
// expect: weir::stream<T>::filter expects a predicate T -> bool
#include <weir/api/stream.hpp>

void build(weir::streaming_context& ssc) {
  auto lines = weir::as_stream<std::string>(ssc.text_file("in.txt"));
#ifdef WEIR_COMPILE_FAIL_OK
  lines.filter([](const std::string& s) { return !s.empty(); }).print();
#else
  lines.filter([](const std::string& s) { return s + "!"; }).print();
#endif
}
