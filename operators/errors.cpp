// weir — the message table of error_code (errors.hpp).
#include "weir/operators/errors.hpp"

namespace weir {

const char* error_name(error_code c) noexcept {
  switch (c) {
    case error_code::bad_record: return "bad_record";
    case error_code::type_mismatch: return "type_mismatch";
    case error_code::arithmetic_overflow: return "arithmetic_overflow";
    case error_code::malformed_record: return "malformed_record";
    case error_code::state_misuse: return "state_misuse";
    case error_code::pipeline_failed: return "pipeline_failed";
    case error_code::invalid_argument: return "invalid_argument";
    case error_code::corrupt_state: return "corrupt_state";
    case error_code::state_mismatch: return "state_mismatch";
    case error_code::state_version: return "state_version";
  }
  return "unknown_error";
}

const char* error_message(error_code c) noexcept {
  switch (c) {
    case error_code::bad_record: return "a record an operator cannot process";
    case error_code::type_mismatch: return "a value of another kind than the operation expects";
    case error_code::arithmetic_overflow: return "an integer aggregation overflowed";
    case error_code::malformed_record: return "a malformed record (on_error = fail)";
    case error_code::state_misuse: return "keyed state used where it may not be";
    case error_code::pipeline_failed: return "the pipeline cannot be built or run";
    case error_code::invalid_argument: return "an operator parameter out of range";
    case error_code::corrupt_state: return "checkpoint state that does not decode";
    case error_code::state_mismatch: return "checkpoint state of another operator or configuration";
    case error_code::state_version: return "checkpoint state in a format this build does not read";
  }
  return "unknown error";
}

}  // namespace weir
