// weir — xxh3-64 behind a stable interface (hash.hpp): only this file
// includes <xxhash.h> for checksums.
#include "weir/common/hash.hpp"

#include <new>

#include <xxhash.h>

namespace weir {

std::uint64_t xxh3_64(std::string_view bytes) noexcept { return XXH3_64bits(bytes.data(), bytes.size()); }

struct xxh3_64_stream::state {
  XXH3_state_t* st = nullptr;
};

xxh3_64_stream::xxh3_64_stream() : s_(std::make_unique<state>()) {
  s_->st = XXH3_createState();
  if (!s_->st) throw std::bad_alloc();
  XXH3_64bits_reset(s_->st);
}

xxh3_64_stream::~xxh3_64_stream() {
  if (s_) XXH3_freeState(s_->st);
}

void xxh3_64_stream::update(std::string_view bytes) noexcept { XXH3_64bits_update(s_->st, bytes.data(), bytes.size()); }

std::uint64_t xxh3_64_stream::digest() const noexcept { return XXH3_64bits_digest(s_->st); }

void xxh3_64_stream::reset() noexcept { XXH3_64bits_reset(s_->st); }

}  // namespace weir
