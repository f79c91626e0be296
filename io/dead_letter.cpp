#include "weir/io/dead_letter.hpp"

#include <cerrno>

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include "weir/common/errno_text.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::io {
namespace {

/// RFC 4648 base64 with padding.
void append_base64(std::string& out, std::string_view in) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16 |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8 |
                   static_cast<unsigned char>(in[i + 2]);
    out += digits[n >> 18];
    out += digits[(n >> 12) & 63];
    out += digits[(n >> 6) & 63];
    out += digits[n & 63];
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += digits[n >> 18];
    out += digits[(n >> 12) & 63];
    out += rest == 2 ? digits[(n >> 6) & 63] : '=';
    out += '=';
  }
}

}  // namespace

dead_letter_file::dead_letter_file(std::string path) : path_(std::move(path)) {}

dead_letter_file::~dead_letter_file() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
}

void dead_letter_file::write(const bad_record& r) {
  std::lock_guard lock(mu_);
  const std::string label = "dead_letter(\"" + path_ + "\")";
  if (fd_ < 0) {
    do fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) throw pipeline_error(label + ": cannot create: " + errno_text(errno));
  }
  line_.clear();
  line_ += "{\"raw\":";
  value(r.raw).append_json(line_);
  if (!simdjson::validate_utf8(r.raw.data(), r.raw.size())) {
    line_ += ",\"raw_base64\":\"";
    append_base64(line_, r.raw);
    line_ += '"';
  }
  line_ += ",\"reason\":";
  value(r.reason).append_json(line_);
  line_ += ",\"provenance\":";
  value(r.provenance).append_json(line_);
  line_ += "}\n";
  std::size_t off = 0;
  while (off < line_.size()) {
    ssize_t n = ::write(fd_, line_.data() + off, line_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw pipeline_error(label + ": cannot write: " + errno_text(errno));
    }
    off += static_cast<std::size_t>(n);
  }
  ++written_;
}

std::uint64_t dead_letter_file::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

error_policy dead_letter_policy(std::shared_ptr<dead_letter_file> file) {
  error_policy p;
  p.action = on_error::dead_letter;
  p.dead_letter = [file](const bad_record& r) { file->write(r); };
  return p;
}

error_policy dead_letter_policy(std::string path) {
  return dead_letter_policy(std::make_shared<dead_letter_file>(std::move(path)));
}

}  // namespace weir::io
