// A map lambda taking an int on a stream of strings.
// expect: weir::stream<T>::map expects a callable T -> U, e.g. [](const std::string& line) { return line.size(); }
#include <weir/api/stream.hpp>

void build(weir::streaming_context& ssc) {
  auto lines = weir::as_stream<std::string>(ssc.text_file("in.txt"));
#ifdef WEIR_COMPILE_FAIL_OK
  lines.map([](const std::string& s) { return s.size(); }).print();
#else
  lines.map([](int x) { return x + 1; }).print();
#endif
}
