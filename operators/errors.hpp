// weir — typed errors: the error codes of record_error and pipeline_error
// with their message table (the shape of simdjson's `error_code` +
// `error_message()` and CAF's `sec`). A caller tells kinds of failure apart
// by `code()`, never by parsing `what()`; `what()` stays the one-line message
// for the user, naming the place (record, file:line, byte) and what was
// expected.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace weir {

/// What went wrong, by kind. The first group is carried by record_error (a
/// record the pipeline cannot process), the second by pipeline_error (a
/// pipeline that cannot be built, restored or run). Values are stable: new
/// codes are appended.
enum class error_code : std::uint8_t {
  // --- records (record_error) ---
  bad_record = 0,       ///< a record an operator cannot process (the default of record_error)
  type_mismatch,        ///< a value of another kind than the operation expects (not a pair, not a number, …)
  arithmetic_overflow,  ///< an integer aggregation overflowed
  malformed_record,     ///< a decoder or time extractor rejected a record under on_error = fail
  state_misuse,         ///< keyed state used where Spark forbids it (update after remove, while timing out)
  // --- pipelines (pipeline_error) ---
  pipeline_failed = 32, ///< a pipeline that cannot be built or run (the default of pipeline_error)
  invalid_argument,     ///< an operator parameter out of range (a negative delay, a gap <= 0, …)
  corrupt_state,        ///< checkpoint state that does not decode: truncated, checksum mismatch, impossible values
  state_mismatch,       ///< checkpoint state written by another operator or another configuration of it
  state_version,        ///< checkpoint state in a format this build does not read (older or newer)
};

/// The code's identifier ("corrupt_state"), for logs and metrics labels.
const char* error_name(error_code c) noexcept;

/// A one-line description of the code ("checkpoint state that does not
/// decode"), for users who see only the code.
const char* error_message(error_code c) noexcept;

/// An error that carries an error_code. @thread Immutable after construction.
class coded_error : public std::runtime_error {
public:
  coded_error(error_code c, const std::string& what) : std::runtime_error(what), code_(c) {}
  coded_error(error_code c, const char* what) : std::runtime_error(what), code_(c) {}
  error_code code() const noexcept { return code_; }

private:
  error_code code_;
};

/// A record an operator, decoder or expression cannot process (wrong type,
/// missing field, malformed input). Thrown on the record path; the runtime
/// catches it at batch granularity and stops the pipeline with the message.
/// Without a code: error_code::bad_record.
class record_error : public coded_error {
public:
  explicit record_error(const std::string& what) : coded_error(error_code::bad_record, what) {}
  explicit record_error(const char* what) : coded_error(error_code::bad_record, what) {}
  record_error(error_code c, const std::string& what) : coded_error(c, what) {}
};

/// A pipeline that cannot be built, restored or run (bad configuration,
/// missing input file, corrupt checkpoint, failed operator). `what()` is a
/// one-line message for the user. Without a code: error_code::pipeline_failed.
class pipeline_error : public coded_error {
public:
  explicit pipeline_error(const std::string& what) : coded_error(error_code::pipeline_failed, what) {}
  explicit pipeline_error(const char* what) : coded_error(error_code::pipeline_failed, what) {}
  pipeline_error(error_code c, const std::string& what) : coded_error(c, what) {}
};

}  // namespace weir
