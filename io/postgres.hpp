// weir — the PostgreSQL sink (write_postgres) on libpq's C API. This header
// does not include <libpq-fe.h>.
//
// Records become rows: an object's fields are columns by name; a tuple's
// items are the columns _1, _2, ... (Spark's names for the fields of a tuple
// Dataset); any other value is the column `value` (Spark's single column of a
// Dataset of primitives). Appends go through COPY; with key columns the rows
// are upserted (INSERT ... ON CONFLICT (key) DO UPDATE), the last record of
// a key winning. A checkpointed run writes exactly once (docs/architecture.md
// §6, "Exactly-once sinks"): rows are staged in a weir-owned table and an
// epoch moves into the target table in one transaction that also records the
// epoch in the weir-owned table `weir_sink_epochs`.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "weir/operators/error_policy.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::io {

/// Options of `write_postgres(url, table = "t", key = [...], create = true)`.
struct postgres_sink_options {
  /// A libpq connection string: a URI ("postgresql://user@host:5432/db") or
  /// key=value pairs ("host=/run/postgresql dbname=app"). libpq's
  /// environment variables (PGHOST, PGPASSWORD, ...) and ~/.pgpass apply.
  std::string url;
  /// The target table, optionally schema-qualified ("reports.counts"). Names
  /// are identifiers as written (quoted: case and characters kept).
  std::string table = "t";
  /// Upsert key columns: rows with the same key replace each other (the last
  /// record wins) through INSERT ... ON CONFLICT (key) DO UPDATE; the table
  /// needs a unique index or primary key on exactly these columns. Empty:
  /// append with COPY.
  std::vector<std::string> key;
  /// Create a missing table from the first record: one column per field,
  /// typed by the field's kind (int bigint, double double precision, string
  /// text, bool boolean, array or object jsonb, null text), with PRIMARY KEY
  /// (key) when key columns are given. false: a missing table is an error.
  bool create = true;
  /// A row the table cannot take (a value of the wrong type, a constraint
  /// violated, a field that is not a column): fail (default) stops the
  /// pipeline naming the row and PostgreSQL's message; skip drops and counts
  /// it (malformed_records); dead_letter also writes it to the dead-letter
  /// file (raw: the record's JSON, reason: PostgreSQL's message).
  error_policy on_error;
  /// Identifies this sink in `weir_sink_epochs` and names its staging table
  /// in checkpointed runs; must be stable across restarts of the job and
  /// unique among jobs writing to the same database. Empty: the table name.
  std::string sink_id;
  /// Bound for connecting, and for getting the connection back after it was
  /// lost: reconnection attempts back off from 100 ms to 5 s between tries;
  /// after this long without success the pipeline fails.
  std::chrono::milliseconds timeout{30000};
  /// Rows buffered before they are written (also written at every batch end).
  std::size_t flush_rows = 10000;
};

/// The PostgreSQL sink.
///
/// Without checkpoints, each batch's rows (and every `flush_rows` rows) are
/// written in one transaction at the batch end: at-least-once (a
/// transaction whose COMMIT was sent when the connection broke is written
/// again after reconnecting; an upsert makes that harmless).
///
/// With checkpoints (operator_context::checkpointing): exactly-once by
/// two-phase commit. Rows are copied during the epoch (the output between
/// two checkpoint barriers) into the staging table `weir_stage_<16 hex
/// digits>` (same columns as the target, plus the epoch's sequence number
/// and the row's number), committed as they go: pre-commit (snapshot_state)
/// only records the epoch. notify_checkpoint_complete moves the epochs of
/// the completed checkpoint into the target (INSERT ... SELECT, ON CONFLICT
/// for upserts), deletes their staged rows and sets this sink's row of
/// `weir_sink_epochs` (sink_id, target, staging, epoch, committed_at) to the
/// last epoch's number, all in one transaction. restore_state reads that
/// row, moves the epochs of the restored checkpoint that are not committed
/// yet and deletes every other staged row (written after the checkpoint: the
/// replay writes them again). A fresh run (not restoring) clears its staging
/// table and its epoch row; it never deletes rows of the target table.
/// Needs no server setting (no PREPARE TRANSACTION); memory stays bounded by
/// `flush_rows`. After a fallback to an older checkpoint (newest one
/// corrupt), epochs of the lost checkpoints already in the table stay, and
/// the replayed epochs with their numbers are skipped.
///
/// A lost connection (server restart, network) is retried with back-off
/// within `timeout`: a write or commit that did not complete is done again
/// (a staged write first deletes what it had staged; a commit first reads
/// the epoch row), so nothing a checkpoint covers is lost or repeated.
/// @errors pipeline_error "write_postgres(\"t\"): ..." when the server cannot
///         be reached within `timeout`, the table is missing (create = false)
///         or has no unique index on the key, a statement fails for another
///         reason than a row (permissions, a dropped column), or a row fails
///         under on_error = fail ("row 17 of batch 3000 ms: invalid input
///         syntax for type bigint: \"abc\" (22P02); record: {...}").
operator_ptr make_postgres_sink(postgres_sink_options opts);

}  // namespace weir::io
