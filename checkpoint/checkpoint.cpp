#include "weir/checkpoint/checkpoint.hpp"

namespace weir::checkpoint {
static_assert(format_version >= 1);
}  // namespace weir::checkpoint
