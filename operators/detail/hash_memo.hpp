// weir — the former place of hash_memo, now public (operators/hash_memo.hpp).
// Kept only until every includer names the public header; then removed.
#pragma once

#include "weir/operators/hash_memo.hpp"

namespace weir::detail {
using weir::hash_memo;
}  // namespace weir::detail
