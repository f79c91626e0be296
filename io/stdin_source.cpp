// stdin: the lines of standard input, read without ever blocking (see sources.hpp).
#include <chrono>

#include <unistd.h>

#include "weir/io/detail/line_reader.hpp"
#include "weir/io/sources.hpp"

namespace weir::io {
namespace {

class stdin_source final : public source_reader {
public:
  explicit stdin_source(std::size_t max_line_bytes)
      : reader_("stdin", "stdin", max_line_bytes) {
    reader_.attach(STDIN_FILENO);
  }

  // Each read(2) is preceded by a zero-timeout poll(2): when no data is ready
  // the call returns idle (retry after 2 ms) instead of blocking the actor.
  // Standard input is not closed by close(): the process owns it.
  read_result read(records& out, std::size_t max) override {
    return reader_.read(out, max, /*poll_first=*/true, std::chrono::milliseconds(2));
  }

  std::string describe() const override { return "stdin"; }

private:
  detail::line_reader reader_;
};

}  // namespace

source_ptr make_stdin_source(std::size_t max_line_bytes) {
  return std::make_unique<stdin_source>(max_line_bytes);
}

}  // namespace weir::io
