#include "weir/operators/error_policy.hpp"

#include "weir/operators/stream_operator.hpp"

namespace weir {

void handle_bad_record(const error_policy& p, const bad_record& r, std::uint64_t& counter) {
  switch (p.action) {
    case on_error::fail:
      throw record_error(error_code::malformed_record,
                         r.provenance.empty() ? r.reason : r.provenance + ": " + r.reason);
    case on_error::skip: ++counter; return;
    case on_error::dead_letter:
      ++counter;
      if (p.dead_letter) p.dead_letter(r);
      return;
  }
}

}  // namespace weir
