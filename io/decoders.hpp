// weir — decoders: operators that turn raw text records (lines from a source)
// into structured values — parse_log (Apache access logs), parse_csv (RFC
// 4180), parse_json (simdjson On-Demand) and parse_regex (named groups).
//
// Every decoder takes an error_policy (docs/architecture.md §9, operators/error_policy.hpp):
// a record it cannot decode is, by default, an error that stops the pipeline
// with the record's provenance and the reason; with `skip` it is dropped and
// counted in `counters().malformed_records`; with `dead_letter` it is also
// written to the dead-letter file (io/dead_letter.hpp).
//
// Provenance: when the decoder directly follows a source that knows where its
// records come from (`process_context::origin`, e.g. file(path) gives
// "PATH:LINE"), the decoder names that; otherwise "record N" (N = 1-based
// count of the records this decoder instance has seen).
//
// Input records must be strings (the lines of file, stdin, socket, ...); any
// other value is a bad record ("expected a string record, got int").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weir/operators/error_policy.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::io {

// --- parse_log ---------------------------------------------------------------

/// Apache/NCSA access-log formats.
enum class log_format : std::uint8_t {
  /// Combined: `%h %l %u [%d/%b/%Y:%H:%M:%S %z] "%r" %>s %b "%{Referer}i" "%{User-agent}i"`.
  combined,
  /// Common (CLF): the same without referrer and user agent.
  common,
};

/// Parses one access-log line (hand-written parser, no regex) into an object
/// with fields, in this order: `ip` (string, %h), `user` (string, %u; "-" when
/// unknown), `time` (int, ms since the Unix epoch, UTC: the local time in
/// brackets minus its zone offset), `method`, `path`, `protocol` (strings from
/// the request line "%r"; a request line without spaces, e.g. "-", gives
/// method = that text and empty path and protocol), `status` (int), `bytes`
/// (int; "-" → 0), and for `combined` only `referrer` and `agent` (strings,
/// with `\"` and `\\` unescaped). Trailing fields after the agent are ignored
/// (Apache may log more, e.g. %D).
/// Returns false, with `reason` set, for a line that does not follow the
/// format: the reason names the 1-based byte column and what was expected,
/// e.g. "column 214: expected '\"' closing the user agent, found end of line".
/// @thread Pure function.
bool parse_access_log(std::string_view line, log_format fmt, value& out, std::string& reason);

/// Civil date and time to ms since the Unix epoch (proleptic Gregorian, UTC).
std::int64_t civil_to_epoch_ms(int year, int month, int day, int hour, int minute, int second);

/// Decoder operator: each string record → parse_access_log's object.
/// Stateless (chained after its input, e.g. into the source's actor).
operator_ptr make_log_decoder(log_format fmt, error_policy policy = {});

// --- parse_csv ---------------------------------------------------------------

/// RFC 4180 dialect.
struct csv_options {
  bool header = true;  ///< first record = column names → records are objects keyed by them; else arrays
  char sep = ',';      ///< field separator
  char quote = '"';    ///< quote character; doubled inside a quoted field it stands for itself
  /// Largest record spanning lines (bytes, lines joined): a quoted field
  /// still open beyond it fails the record (a stray quote must not swallow
  /// the rest of the input, nor its memory).
  std::size_t max_record_bytes = 1u << 20;
};

/// Parses one complete CSV record (which may contain line breaks inside
/// quoted fields) into its fields. Returns false with `reason` naming the
/// 1-based line (within the record) and column and what was expected, e.g.
/// "line 1, column 7: unexpected '\"' inside an unquoted field" or "line 1,
/// column 12: expected ',' or end of record after a closing quote, found 'x'".
/// A quoted field left open is "unterminated quoted field (opened at line 1,
/// column 5)". @thread Pure function.
bool parse_csv_record(std::string_view text, const csv_options& o, std::vector<std::string>& fields,
                      std::string& reason);

/// Decoder operator: lines → CSV records. A quoted field may span lines
/// (RFC 4180): the decoder joins consecutive lines with "\n" while a quote is
/// open, so it keeps state between records and between batches, and must
/// directly follow a line source (file, stdin, ...) whose lines arrive in
/// order — the API routes it as one global instance (chained into a source's
/// actor). With `header`, the first record names the columns and each later
/// record becomes an object {column: string}; a record with another number
/// of fields than the header is a bad record. Without `header`, records are
/// arrays of strings. Field values are strings as written (no type inference,
/// like Spark's CSV reader without inferSchema). A record's provenance is
/// that of its first line. A quote still open at end of stream is a bad
/// record ("unterminated quoted field").
/// A record that fails after spanning lines — a quote still open past
/// max_record_bytes or at end of stream, a non-string record, or an error
/// on a later line — costs one line: its first line is the bad record (raw
/// = that line, reason ending "(a record from this line on; the N lines
/// after it are read again)"), and the lines after it are decoded again as
/// records, so a stray quote does not take the rest of the file with it.
operator_ptr make_csv_decoder(csv_options o = {}, error_policy policy = {});

// --- parse_json --------------------------------------------------------------

/// A path into a JSON document: `.a.b[0]`, `.["key with spaces"]`, `[2]`,
/// or `.` (the whole document). Names are joined by dots, array indexes in
/// brackets. @errors pipeline_error "parse_json: bad path '...': <what>".
struct json_path {
  std::string text;              ///< as written
  std::string name;              ///< output field name (text without the leading '.')
  std::string pointer;           ///< the RFC 6901 JSON pointer ("/a/b/0")
  static json_path parse(std::string_view text);
};

/// Arrays and objects may nest at most this deep (simdjson's
/// DEFAULT_MAX_DEPTH); a deeper document is a bad record ("byte offset N:
/// arrays and objects nested deeper than 1024").
inline constexpr std::size_t max_json_depth = 1024;

struct json_options {
  /// Empty: each record becomes the whole document's value. Otherwise each
  /// record becomes an object {path name: value at that path}, the paths
  /// read lazily with simdjson On-Demand (only the parts of the document
  /// needed to reach them are parsed; a missing path gives null).
  std::vector<json_path> fields;
  /// With fields: also read the rest of each document (a second pass, as
  /// the whole-document mode reads it: every number, string, key and
  /// literal, the depth limit, nothing after the document), so a document
  /// that is not complete, valid JSON is a bad record even when the damage
  /// lies after the wanted paths. false (the fast mode) checks only what
  /// reaching the paths reads: the structure up to the last path read
  /// (simdjson's stage 1 also checks UTF-8 and unclosed strings in the
  /// whole text), so e.g. `{"a":1,"b":tru}` with fields [".a"] passes.
  bool validate = true;
};

/// Parses a whole JSON document with simdjson On-Demand (integers that fit
/// int64 → int, others → double; objects keep field order; trailing content
/// after the document is an error). Returns false with `reason` =
/// "byte offset N: <simdjson's reason>" (0-based offset into `text`; "at end"
/// when the error lies at the end of the text); a document nested deeper
/// than max_json_depth is an error. @thread Safe from any thread.
bool parse_json_document(std::string_view text, value& out, std::string& reason);

/// Decoder operator: each string record (one JSON document, NDJSON) → value.
/// Stateless. With fields and `validate = false`, malformed JSON outside the
/// parts read goes unnoticed (On-Demand validates only what it reads).
operator_ptr make_json_decoder(json_options o = {}, error_policy policy = {});

// --- parse_regex -------------------------------------------------------------

/// Decoder operator: each string record is searched (leftmost match,
/// unanchored; anchor with ^...$ for a whole-line match) for `pattern`, in
/// RE2 syntax (io/regex.hpp: linear time in the line, no backreferences or
/// lookaround), whose named groups `(?<name>...)` (or `(?P<name>...)`)
/// become the fields of the output object, in pattern order (a group that
/// did not take part in the match → null). A record that does not match is
/// a bad record. About 1 µs per short line; parse_log is faster for access logs.
/// @errors pipeline_error "parse_regex: ..." for an invalid pattern (also a
///         backreference or lookaround) or one without named groups.
operator_ptr make_regex_decoder(const std::string& pattern, error_policy policy = {});

}  // namespace weir::io
