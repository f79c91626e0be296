// libFuzzer target: parse_csv. The input's lines go through a CSV decoder in
// two pieces (a record may stay open across them); the decoder is then
// snapshotted, restored into a new one, and must reach the same result at
// end of stream as the original. Every line ends up in an output record or
// a bad record: nothing is swallowed.
#include <cstdlib>
#include <memory>

#include "fuzz_util.hpp"
#include "weir/io/decoders.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // first byte: options; second: where to cut
  io::csv_options o;
  o.header = data[0] & 1;
  o.sep = (data[0] & 2) ? ';' : ',';
  o.quote = (data[0] & 4) ? '\'' : '"';
  o.max_record_bytes = (data[0] & 8) ? 64 : 1u << 20;
  records in = fuzz::lines(fuzz::text(data + 2, size - 2));
  const std::size_t cut = in.size() ? data[1] % (in.size() + 1) : 0;
  records first(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(cut));
  records second(in.begin() + static_cast<std::ptrdiff_t>(cut), in.end());

  auto bad_a = std::make_shared<std::uint64_t>(0), bad_b = std::make_shared<std::uint64_t>(0);
  operator_harness a(io::make_csv_decoder(o, fuzz::counting(bad_a)));
  records out_a = a.push(first);
  const std::string state = a.snapshot();
  records more = a.push(second);
  out_a.insert(out_a.end(), more.begin(), more.end());
  for (auto& [t, r] : a.end_of_stream()) out_a.insert(out_a.end(), r.begin(), r.end());

  operator_harness b(io::make_csv_decoder(o, fuzz::counting(bad_b)), operator_harness::restoring_context());
  b.restore(state, 0);
  records out_b = b.push(second);
  for (auto& [t, r] : b.end_of_stream()) out_b.insert(out_b.end(), r.begin(), r.end());

  // the restored decoder continues exactly where the first one was
  const std::size_t before_cut = out_a.size() - out_b.size();
  if (out_a.size() < out_b.size()) std::abort();
  for (std::size_t i = 0; i < out_b.size(); ++i)
    if (!(out_a[before_cut + i] == out_b[i])) std::abort();
  // every non-blank line is in a record or a bad record (or is the header)
  std::size_t non_blank = 0;
  for (auto& l : in) non_blank += !l.as_string().empty();
  if (non_blank > 0 && out_a.size() + *bad_a == 0 && !o.header) std::abort();
  return 0;
}
