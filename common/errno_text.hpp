// weir — the text of an errno value, for error messages that name the cause
// ("cannot open x.txt: No such file or directory").
#pragma once

#include <string>

namespace weir {

/// The strerror text of `err` (e.g. "No such file or directory"); "error N"
/// for a value the C library has no text for.
/// @thread Thread-safe (strerror_r, unlike strerror, uses no shared buffer).
std::string errno_text(int err);

}  // namespace weir
