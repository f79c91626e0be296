// weir — internal: errno → message text. Not part of the public API.
#pragma once

#include <cstring>
#include <string>

namespace weir::io::detail {

/// The strerror text of `err` (e.g. "No such file or directory").
/// @thread Thread-safe (uses the GNU strerror_r, unlike strerror).
inline std::string errno_text(int err) {
  char buf[256];
  const char* s = ::strerror_r(err, buf, sizeof(buf));  // GNU: returns the text
  return s ? std::string(s) : "error " + std::to_string(err);
}

}  // namespace weir::io::detail
