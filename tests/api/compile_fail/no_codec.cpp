// A stream of a struct without a codec.
// expect: weir::stream<T>: T has no weir::codec<T>; declare one with WEIR_CODEC(T, member, ...)
#include <weir/api/stream.hpp>

struct point {
  double x = 0, y = 0;
};
#ifdef WEIR_COMPILE_FAIL_OK
WEIR_CODEC(point, x, y);
#endif

void build(weir::streaming_context& ssc) {
  weir::as_stream<point>(ssc.text_file("in.txt")).print();
}
