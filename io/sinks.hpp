// weir — built-in sinks. A sink is a stream_operator that writes and emits nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "weir/operators/stream_operator.hpp"

namespace weir::io {

/// Spark's `DStream.print(num)` layout, per batch (also for empty batches):
///   -------------------------------------------
///   Time: 1000 ms
///   -------------------------------------------
///   <first n records, Spark toString layout (value::to_text)>
///   ...            (only if the batch has more than n records)
///   <empty line>
/// Writes to `out` (default std::cout). At-least-once, also with checkpoints:
/// after a recovery, what was printed after the restored checkpoint is
/// printed again (a console cannot be rolled back).
operator_ptr make_print_sink(std::size_t n = 10, std::ostream* out = nullptr);

/// One JSON object per record: {"time": <batch time ms>, "record": <value>}\n.
/// The file is written as <path>.tmp and renamed to <path> at end of stream.
///
/// Checkpointed runs (operator_context::checkpointing; also write_csv):
/// exactly-once by two-phase commit. <path> is created empty and grows by
/// whole epochs (the output between two checkpoint barriers): an epoch is
/// written to <path>.weir-pending/epoch-N, fsync'ed by snapshot_state
/// (pre-commit), appended to <path> and fsync'ed by
/// notify_checkpoint_complete (commit), then its pending file is removed.
/// restore_state truncates <path> to what the restored checkpoint committed
/// and commits its pre-committed epochs (Flink's recoverAndCommit with the
/// truncate-based RecoverableWriter); other pending files are deleted.
/// The state holds the batch clock, <path>'s committed length and the list
/// of pre-committed epochs (a few bytes each).
/// @errors pipeline_error when the file cannot be created or written
///         ("jsonl(\"p\"): cannot write \"p.weir-pending/epoch-3\": No space
///         left on device"), and from restore_state when <path> is shorter
///         than the restored checkpoint committed or a pending file it needs
///         is missing.
operator_ptr make_jsonl_sink(std::string path);

/// One JSON line per batch, also for empty batches:
/// {"time": <batch time ms>, "records": [<value>, ...]}. Holds one batch's
/// JSON text in memory. Written as <path>.tmp, renamed at end of stream.
/// @errors pipeline_error when the file cannot be created or written.
operator_ptr make_collect_sink(std::string path);

/// Calls `fn(batch_time_ms, records)` once per batch (also for empty batches).
/// Spark `foreachRDD`.
operator_ptr make_batch_sink(std::function<void(std::int64_t, records&)> fn);

// --- file and console sinks ------------------------------------------

/// Spark's `DStream.saveAsTextFiles(prefix, suffix)` layout. For every batch
/// (also empty ones) at time t (ms), the folder `dir/prefix-t.suffix`
/// (`dir/prefix-t` when suffix is empty) receives from each parallel instance
/// i of the sink its own file `part-NNNNN` (i, 5 digits), holding the
/// instance's records of the batch, one per line in Spark's text form
/// (value::to_text: strings raw, tuples `(a,b)`). `dir` and the batch folders
/// are created as needed. Crash safety: an instance writes its part file as
/// `dir/.prefix-part-NNNNN.inflight` while the batch runs; at the batch end
/// it is fsync'ed and renamed to `dir/prefix-t.suffix/part-NNNNN` (then the
/// folder is fsync'ed), so a file under its final name is always complete.
/// No `_SUCCESS` marker is written (instances commit independently).
/// Checkpointed runs: exactly-once by two-phase commit. A finished part file
/// is staged as `dir/.prefix-part-NNNNN.weir-pending/epoch-S/<batch folder>`
/// instead; notify_checkpoint_complete renames the staged files of the
/// completed checkpoint's epochs into their batch folders. restore_state
/// renames those of the restored checkpoint (rename is atomic; a file
/// already moved is in place), deletes the other staged files and this
/// instance's part files of batches after the checkpoint's last batch (the
/// replay writes them again). Records of an unfinished batch at a barrier
/// (record mode) are carried in the state.
/// @errors pipeline_error "write_text(\"DIR\"): ..." when a folder or file
///         cannot be created or written.
operator_ptr make_text_files_sink(std::string dir, std::string prefix = "out", std::string suffix = "txt");

/// One CSV file, RFC 4180 quoting (a field holding ',', '"', CR or LF is
/// quoted, quotes doubled); lines end with "\n". Records: an object gives
/// one row of its field values, and the first object record fixes the
/// header line (its field names) and the columns (later objects: by name,
/// missing → empty field); an array or tuple gives one field per item; any
/// other value one field. Strings are written raw, numbers and bools as
/// text, null as an empty field, nested arrays/objects as JSON.
/// Written as <path>.tmp, renamed to <path> at end of stream. Checkpointed
/// runs: exactly-once by two-phase commit as write_jsonl; the header and the
/// columns are part of the state, so the header is written once.
/// @errors pipeline_error when the file cannot be created or written.
operator_ptr make_csv_sink(std::string path);

/// Record layout of the stdout sink.
enum class stdout_format : std::uint8_t {
  jsonl,  ///< each record as one line of compact JSON (NDJSON)
  text,   ///< each record in Spark's text form (value::to_text), one per line
};

/// One line per record to `out` (default std::cout), flushed at every batch
/// end; no batch headers (use print() for Spark's pprint layout).
/// At-least-once, also with checkpoints: after a recovery, the lines written
/// after the restored checkpoint are written again.
operator_ptr make_stdout_sink(stdout_format format = stdout_format::jsonl, std::ostream* out = nullptr);

}  // namespace weir::io
