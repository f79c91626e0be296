// weir — the malformed-record policy (docs/architecture.md §9): what a decoder, a time
// extractor or an expression does with a record it cannot process.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace weir {

/// `on_error = fail | skip | dead_letter(path)`.
enum class on_error : std::uint8_t {
  fail,         ///< default: stop the pipeline with the record's provenance and the reason
  skip,         ///< drop the record and count it in `malformed_records`
  dead_letter,  ///< drop it, count it, and hand it to the dead-letter writer
};

/// A record that could not be processed.
struct bad_record {
  std::string_view raw;     ///< the raw bytes (or the record's JSON text)
  std::string reason;       ///< e.g. "expected '\"' after the user agent at column 212"
  std::string provenance;   ///< e.g. "apache_logs:4719", "topic/3/1234", "record 17"
};

/// Writes one dead-letter record (a JSON line {raw, reason, provenance}).
/// Must be safe to call from several operator instances at once.
using dead_letter_fn = std::function<void(const bad_record&)>;

/// The policy of one decoder or operator.
struct error_policy {
  on_error action = on_error::fail;
  dead_letter_fn dead_letter;  ///< required when action == dead_letter
};

/// Applies `p` to `r`: fail → throws record_error("<provenance>: <reason>");
/// skip → ++counter; dead_letter → ++counter and p.dead_letter(r).
/// @errors record_error for on_error::fail.
void handle_bad_record(const error_policy& p, const bad_record& r, std::uint64_t& counter);

}  // namespace weir
