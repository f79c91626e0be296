// weir — errno text (errno_text.hpp).
#include "weir/common/errno_text.hpp"

#include <cstring>

namespace weir {

std::string errno_text(int err) {
  char buf[256];
  const char* s = ::strerror_r(err, buf, sizeof(buf));  // GNU: returns the text (maybe a static one)
  return s ? std::string(s) : "error " + std::to_string(err);
}

}  // namespace weir
