// libFuzzer target: parse_json. Each input is one document, read whole
// (parse_json_document) and through the decoder with fields, validating and
// fast. The validating fields mode must accept exactly what the whole-
// document mode accepts (it reads the same parts of the document).
#include <cstdlib>
#include <memory>

#include "fuzz_util.hpp"
#include "weir/io/decoders.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;

namespace {

io::json_options fields(bool validate) {
  io::json_options o;
  for (auto p : {".a", ".b", ".c[0]", ".[\"d e\"].f"}) o.fields.push_back(io::json_path::parse(p));
  o.validate = validate;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto bad = std::make_shared<std::uint64_t>(0);
  static operator_harness validating(io::make_json_decoder(fields(true), fuzz::counting(bad)));
  static operator_harness fast(io::make_json_decoder(fields(false), fuzz::counting(bad)));
  static operator_harness top_level([] {
    io::json_options o;
    for (auto p : {".a", ".b"}) o.fields.push_back(io::json_path::parse(p));
    return io::make_json_decoder(o, fuzz::counting(bad));
  }());
  const std::string_view doc = fuzz::text(data, size);

  value whole;
  std::string reason;
  const bool whole_ok = io::parse_json_document(doc, whole, reason);
  if (!whole_ok && reason.empty()) std::abort();

  records in{value(doc)};
  const std::uint64_t before = *bad;
  records out = validating.push(in);
  const bool validate_ok = out.size() == 1;
  if (validate_ok == (*bad != before)) std::abort();  // exactly one of output and bad record
  if (validate_ok != whole_ok) std::abort();          // validate = true reads what the whole mode reads
  (void)fast.push(in);
  records top = top_level.push(in);
  if (!top.empty() && !whole_ok) std::abort();  // validating by default
  return 0;
}
