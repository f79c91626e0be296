// libFuzzer target: the checkpoint reader. The first byte picks what the
// rest of the input is:
//   0  a whole checkpoint file, given to format::unframe (header, sizes,
//      checksums, zstd);
//   1  a task file's content, framed with valid checksums and listed in a
//      valid MANIFEST, then read by store::load (the content decoder);
//   2  a MANIFEST's content, framed, then read by store::load and list();
//   3  a decoder's operator state (parse_csv's), sealed with a valid
//      checksum frame, given to restore_state.
// Corrupt input must be refused with an error (checkpoint_error,
// pipeline_error), never crash, hang or allocate without bound.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_util.hpp"
#include "weir/checkpoint/checkpoint.hpp"
#include "weir/checkpoint/format.hpp"
#include "weir/io/decoders.hpp"
#include "weir/common/hash.hpp"
#include "weir/operators/harness.hpp"

using namespace weir;
namespace fs = std::filesystem;
namespace fmt_ = weir::checkpoint::format;

namespace {

/// A scratch checkpoint directory, memory-backed when possible (a run
/// writes and reads a folder per input), removed at exit.
struct scratch_dir {
  fs::path path;
  scratch_dir() {
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string t = (base / "weir-fuzz-ckpt-XXXXXX").string();
    if (!::mkdtemp(t.data())) std::abort();
    path = t;
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const fs::path& dir() {
  static const scratch_dir d;
  return d.path;
}

void write(const fs::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A MANIFEST content listing one task file.
std::string manifest_for(std::uint64_t id, const std::string& task_file) {
  state_writer w;
  w.u64(id);
  w.i64(1700000000000);
  w.str("plan");
  w.boolean(false);
  w.varint(1);
  w.str("task-0-0.bin");
  w.u64(task_file.size());
  w.u64(fmt_::checksum(task_file));
  return w.take();
}

void load(std::string_view manifest_content, const std::string& task_file) {
  const fs::path folder = dir() / "chk-000000000001";
  fs::create_directories(folder);
  write(folder / "task-0-0.bin", task_file);
  write(folder / "MANIFEST", fmt_::frame(manifest_content, fmt_::flag_manifest, false));
  checkpoint::store_options o;
  o.dir = dir().string();
  o.durable = false;
  checkpoint::store s(o);
  try {
    (void)s.load(1);
  } catch (const checkpoint::checkpoint_error&) {
  }
  (void)s.list();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view rest = fuzz::text(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      for (std::uint32_t kind : {0u, fmt_::flag_manifest}) {
        try {
          (void)fmt_::unframe(rest, kind, "fuzz.bin");
        } catch (const checkpoint::checkpoint_error&) {
        }
      }
      break;
    case 1: {
      const std::string task = fmt_::frame(rest, 0, (size & 1) != 0);
      load(manifest_for(1, task), task);
      break;
    }
    case 2: load(rest, fmt_::frame("", 0, false)); break;
    case 3: {
      // decoder_base's sealed frame (operators/sealed_state.hpp):
      // version 1, the payload (record count, malformed count, the CSV
      // state = the fuzz input), its checksum
      state_writer head;
      head.u64(0);
      head.u64(0);
      std::string payload = head.take();
      payload.append(rest);
      state_writer w;
      w.u8(1);
      w.str(payload);
      w.u64(weir::fnv1a64(payload));
      operator_harness h(io::make_csv_decoder({}, fuzz::counting(std::make_shared<std::uint64_t>(0))),
                         operator_harness::restoring_context());
      try {
        h.restore(w.take(), 0);
        (void)h.push(fuzz::lines("a,\"b\nc\",d\n"));
        (void)h.end_of_stream();
      } catch (const pipeline_error&) {
      }
      break;
    }
  }
  return 0;
}
