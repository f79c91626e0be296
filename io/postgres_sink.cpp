// The PostgreSQL sink (write_postgres, io/postgres.hpp) on libpq's C API:
// records encoded as COPY text rows, the table created from the first
// record, appends by COPY and upserts by INSERT ... SELECT DISTINCT ON ...
// ON CONFLICT from a staging table, rows the table refuses found by
// bisection under savepoints, and the two-phase commit of checkpointed runs
// (docs/architecture.md §6, "Exactly-once sinks").
//
// Tables the sink owns:
//   weir_sink_epochs (sink_id text PRIMARY KEY, target text, staging text,
//                     epoch bigint, committed_at timestamptz)
//   weir_stage_<16 hex> (the written columns..., weir_seq bigint, weir_row bigint)
// An epoch is the output between two checkpoint barriers, numbered by a
// sequence of the sink (weir_seq, kept in the checkpoint state); weir_row
// numbers its rows, so that a later row of a key wins an upsert and a bad
// row can be named. The libpq connection, its failures and the COPY text
// encoding are in io/postgres_connection.cpp.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "weir/common/hash.hpp"
#include "weir/common/test_hooks.hpp"
#include "weir/io/detail/postgres_connection.hpp"
#include "weir/io/postgres.hpp"
#include "weir/operators/sealed_state.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir::io {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

using detail::append_copy_value;
using detail::column;
using detail::column_kind;
using detail::connection;
using detail::ident;
using detail::pg_failure;
using detail::row_error;
using detail::split_table;
using detail::sql_type_of;

/// An epoch staged and pre-committed, not yet moved into the target.
struct epoch {
  std::uint64_t seq = 0;         ///< weir_seq
  std::uint64_t checkpoint = 0;  ///< 0: pre-committed at end of stream, id given by the next snapshot
  std::uint64_t rows = 0;        ///< weir_row numbers used: [0, rows)
};

class postgres_sink final : public stream_operator {
public:
  explicit postgres_sink(postgres_sink_options o) : o_(std::move(o)) {
    label_ = "write_postgres(\"" + o_.table + "\")";
    if (o_.url.empty()) fail("the connection URL must not be empty");
    if (o_.table.empty()) fail("the table name must not be empty");
    if (o_.timeout.count() <= 0) fail("timeout must be positive");
    if (o_.flush_rows == 0) o_.flush_rows = 1;
    std::string schema, name;
    split_table(o_.table, schema, name);
    if (name.empty() || (o_.table.find('.') != std::string::npos && schema.empty()))
      fail("expected a table name like \"t\" or \"schema.t\", got \"" + o_.table + "\"");
    target_ = (schema.empty() ? "" : ident(schema) + ".") + ident(name);
    for (auto& k : o_.key)
      if (k.empty()) fail("key column names must not be empty");
    schema_prefix_ = schema.empty() ? "" : ident(schema) + ".";
  }

  void open(const operator_context& ctx) override {
    ckpt_ = ctx.checkpointing;
    if (o_.sink_id.empty()) o_.sink_id = o_.table + (ctx.parallelism > 1 ? ":" + std::to_string(ctx.instance) : "");
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(xxh3_64(o_.sink_id)));
    stage_name_ = std::string("weir_stage_") + hex;
    stage_ = schema_prefix_ + ident(stage_name_);
    with_retry("connecting", [&](bool) { probe_table(); });
    if (!ckpt_) return;
    with_retry("preparing the epoch table", [&](bool) {
      create_if_missing("CREATE TABLE IF NOT EXISTS weir_sink_epochs (sink_id text PRIMARY KEY, target text NOT NULL, "
                        "staging text NOT NULL, epoch bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now())");
      if (!ctx.restoring) {
        // a fresh run: nothing of an earlier run is pending
        conn_.exec("BEGIN");
        conn_.exec("DELETE FROM weir_sink_epochs WHERE sink_id = $1", {o_.sink_id});
        conn_.exec("DROP TABLE IF EXISTS " + stage_);
        conn_.exec("COMMIT");
      }
    });
  }

  void process(const process_context&, records& in, records&) override {
    for (auto& r : in) {
      ++seen_;
      if (columns_.empty() && !fix_columns(r)) continue;
      std::size_t before = buf_.size();
      if (!encode(r)) {
        buf_.resize(before);
        continue;
      }
      line_end_.push_back(buf_.size());
      rows_.push_back(std::move(r));
      row_no_.push_back(ckpt_ ? epoch_rows_++ : rows_.size() - 1);
      if (rows_.size() >= o_.flush_rows) flush();
    }
  }

  void on_batch_end(std::int64_t, records&) override {
    if (!ckpt_) flush();
  }

  void on_end_of_stream(records&) override {
    flush();
    if (ckpt_) precommit(0);  // the final checkpoint gives it its id
  }

  // --- two-phase commit (checkpointed runs) -------------------------------------------

  void snapshot_state(std::uint64_t id, state_writer& w) override {
    if (!ckpt_) return;
    flush();
    precommit(id);
    for (auto& e : pending_)
      if (e.checkpoint == 0) e.checkpoint = id;
    write_sealed(w, 1, [&](state_writer& s) {
      s.varint(next_seq_);
      s.varint(columns_.size());
      for (auto& c : columns_) {
        s.str(c.name);
        s.u8(static_cast<std::uint8_t>(c.kind));
      }
      s.varint(pending_.size());
      for (auto& e : pending_) {
        s.varint(e.seq);
        s.varint(e.checkpoint);
        s.varint(e.rows);
      }
    });
  }

  void notify_checkpoint_complete(std::uint64_t id) override {
    if (!ckpt_) return;
    commit_upto(id);
    if (id == final_checkpoint_id && pending_.empty() && staged_) {
      // the run is over: its staging table is empty and no longer needed
      with_retry("dropping the staging table", [&](bool) { conn_.exec("DROP TABLE IF EXISTS " + stage_); });
      staged_ = false;
    }
  }

  void restore_state(std::uint64_t id, state_reader& r) override {
    if (!ckpt_) fail("restore_state without checkpointing");
    std::vector<column> cols;
    std::vector<epoch> pend;
    std::uint64_t next = 0;
    read_sealed(r, 1, "sink " + label_, [&](state_reader& s) {
      next = s.varint();
      for (std::uint64_t i = 0, n = s.varint(); i < n; ++i) {
        column c;
        c.name = s.str();
        std::uint8_t k = s.u8();
        if (k > 1) s.fail("bad column kind " + std::to_string(k));
        c.kind = static_cast<column_kind>(k);
        cols.push_back(std::move(c));
      }
      for (std::uint64_t i = 0, n = s.varint(); i < n; ++i) {
        epoch e;
        e.seq = s.varint();
        e.checkpoint = s.varint();
        e.rows = s.varint();
        if (e.checkpoint == 0 || e.checkpoint > id || e.seq >= next || (!pend.empty() && e.seq <= pend.back().seq))
          s.fail("bad pre-committed epoch entry");
        pend.push_back(e);
      }
    });
    if (!pend.empty() && cols.empty()) r.fail("pre-committed epochs without columns");
    next_seq_ = next;
    pending_ = std::move(pend);
    if (!cols.empty()) set_columns(std::move(cols));
    // the epochs the checkpoint pre-committed, then nothing else staged
    commit_upto(id);
    with_retry("clearing the staging table after recovery", [&](bool) {
      conn_.exec("DROP TABLE IF EXISTS " + stage_);
    });
    staged_ = false;
  }

private:
  // ---- connection and retries -----------------------------------------------------------

  [[noreturn]] void fail(const std::string& msg) const { throw pipeline_error(label_ + ": " + msg); }

  /// Runs `f(retrying)`; on a lost connection reconnects with back-off
  /// (100 ms doubling to 5 s) and runs it again, within o_.timeout.
  template <class F>
  void with_retry(const char* what, F&& f) {
    const auto deadline = clock_type::now() + o_.timeout;
    auto backoff = std::chrono::milliseconds(100);
    int attempts = 0;
    bool retrying = false;
    for (;;) {
      ++attempts;
      try {
        if (!conn_.ok()) conn_.open(o_.url, o_.timeout);
        f(retrying);
        return;
      } catch (const pg_failure& e) {
        if (!e.lost) fail(std::string(what) + ": " + e.what());
        conn_.close();
        const auto now = clock_type::now();
        if (now >= deadline)
          fail(std::string(what) + ": cannot reach the server within " + std::to_string(o_.timeout.count()) +
               " ms (" + std::to_string(attempts) + " attempt" + (attempts == 1 ? "" : "s") + "): " + e.what());
        std::this_thread::sleep_for(std::min<clock_type::duration>(backoff, deadline - now));
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5s);
        retrying = true;
      }
    }
  }

  /// CREATE ... IF NOT EXISTS, run again when a concurrent creation raced it.
  void create_if_missing(const std::string& sql) {
    try {
      conn_.exec(sql);
    } catch (const pg_failure& e) {
      if (e.sqlstate != "23505" && e.sqlstate != "42P07") throw;
      conn_.exec(sql);
    }
  }

  /// Whether the target exists, and its columns (name, kind).
  void probe_table() {
    auto r = conn_.exec(
        "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        {target_});
    table_cols_.clear();
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      column c;
      c.name = PQgetvalue(r.get(), i, 0);
      std::string_view t = PQgetvalue(r.get(), i, 1);
      c.kind = t == "json" || t == "jsonb" ? column_kind::json : column_kind::text;
      table_cols_.push_back(std::move(c));
    }
    if (table_cols_.empty()) {
      auto e = conn_.exec("SELECT to_regclass($1) IS NOT NULL", {target_});
      if (std::string_view(PQgetvalue(e.get(), 0, 0)) == "t") fail("table " + o_.table + " has no columns");
      if (!o_.create) fail("table " + o_.table + " does not exist (create = false)");
    }
  }

  // ---- columns ---------------------------------------------------------------------------

  /// The fields of a record, by the row mapping of io/postgres.hpp.
  void fields_of(const value& r, std::vector<std::pair<std::string_view, const value*>>& out) {
    out.clear();
    if (r.is_object()) {
      for (auto& f : r.as_object()) out.emplace_back(f.name.as_string(), &f.val);
    } else if (r.is_tuple()) {
      auto items = r.as_array();
      while (tuple_names_.size() < items.size()) tuple_names_.push_back("_" + std::to_string(tuple_names_.size() + 1));
      for (std::size_t i = 0; i < items.size(); ++i) out.emplace_back(tuple_names_[i], &items[i]);
    } else {
      out.emplace_back("value", &r);
    }
  }

  /// The first record fixes the written columns (and creates the table).
  /// False when the record cannot be written (handled by on_error).
  bool fix_columns(const value& r) {
    fields_of(r, fields_);
    if (table_cols_.empty()) {
      // create = true (probe_table failed otherwise): the table from this record
      for (auto& k : o_.key) {
        bool found = false;
        for (auto& [n, v] : fields_) found = found || n == k;
        if (!found) fail("key column \"" + k + "\" is not a field of the first record " + r.to_json());
      }
      std::string sql = "CREATE TABLE IF NOT EXISTS " + target_ + " (";
      for (std::size_t i = 0; i < fields_.size(); ++i)
        sql += (i ? ", " : "") + ident(fields_[i].first) + " " + sql_type_of(*fields_[i].second);
      if (!o_.key.empty()) {
        sql += ", PRIMARY KEY (";
        for (std::size_t i = 0; i < o_.key.size(); ++i) sql += (i ? ", " : "") + ident(o_.key[i]);
        sql += ")";
      }
      sql += ")";
      with_retry("creating the table", [&](bool) {
        create_if_missing(sql);
        probe_table();
      });
    }
    std::vector<column> cols;
    for (auto& field : fields_) {
      const auto& n = field.first;  // a named variable: clang 14 cannot capture a structured binding
      auto it = std::find_if(table_cols_.begin(), table_cols_.end(), [&](const column& c) { return c.name == n; });
      if (it == table_cols_.end()) {
        bad_row(r, "field \"" + std::string(n) + "\" is not a column of " + o_.table, "record " + std::to_string(seen_));
        return false;
      }
      cols.push_back(*it);
    }
    for (auto& k : o_.key)
      if (std::none_of(cols.begin(), cols.end(), [&](const column& c) { return c.name == k; }))
        fail("key column \"" + k + "\" is not a field of the first record " + r.to_json());
    set_columns(std::move(cols));
    return true;
  }

  void set_columns(std::vector<column> cols) {
    columns_ = std::move(cols);
    col_list_.clear();
    for (std::size_t i = 0; i < columns_.size(); ++i) col_list_ += (i ? ", " : "") + ident(columns_[i].name);
    slot_.assign(columns_.size(), nullptr);
  }

  /// Appends the COPY row of `r` to buf_. False (nothing to keep) when a
  /// field is not a written column: the row goes to on_error.
  bool encode(const value& r) {
    fields_of(r, fields_);
    std::fill(slot_.begin(), slot_.end(), nullptr);
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      auto& [n, v] = fields_[i];
      std::size_t c = i < columns_.size() && columns_[i].name == n ? i : columns_.size();
      if (c == columns_.size())
        for (std::size_t j = 0; j < columns_.size(); ++j)
          if (columns_[j].name == n) c = j;
      if (c == columns_.size()) {
        std::string written;
        for (auto& col : columns_) written += (written.empty() ? "" : ", ") + col.name;
        bad_row(r, "field \"" + std::string(n) + "\" is not among the columns written (" + written + ")",
                "record " + std::to_string(seen_));
        return false;
      }
      slot_[c] = v;
    }
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (c) buf_ += '\t';
      const value* v = slot_[c];
      if (!v || v->is_null()) {
        buf_ += "\\N";
        continue;
      }
      append_copy_value(buf_, *v, columns_[c].kind, tmp_);
    }
    if (ckpt_ || !o_.key.empty()) {
      // weir_seq, weir_row
      buf_ += '\t';
      buf_ += std::to_string(ckpt_ ? next_seq_ : 0);
      buf_ += '\t';
      buf_ += std::to_string(ckpt_ ? epoch_rows_ : rows_.size());
    }
    buf_ += '\n';
    return true;
  }

  void bad_row(const value& r, const std::string& reason, const std::string& where) {
    std::string raw = r.to_json();
    bad_raw(raw, reason, where);
  }
  void bad_raw(const std::string& raw, const std::string& reason, const std::string& where) {
    // the record is shown in the message that stops the pipeline; a dead letter holds it as raw
    std::string why = o_.on_error.action == weir::on_error::fail ? reason + "; record: " + raw : reason;
    handle_bad_record(o_.on_error, bad_record{raw, why, label_ + " " + where}, counters_.malformed_records);
  }

  // ---- writing -----------------------------------------------------------------------------

  /// The staging table's COPY (checkpointed), the temporary table's (upsert
  /// without checkpoints) or the target's (append without checkpoints).
  std::string copy_stmt(const std::string& table, bool numbered) const {
    return "COPY " + table + " (" + col_list_ + (numbered ? ", weir_seq, weir_row" : "") + ") FROM STDIN";
  }

  /// The staging table (or the temporary one of upserts without
  /// checkpoints): the target's written columns with their types, NOT NULL
  /// and CHECK constraints (so that those refuse a row when it is staged,
  /// under on_error), plus weir_seq and weir_row. Unique and foreign-key
  /// constraints are checked when the rows move into the target.
  void ensure_stage(const std::string& table, bool temporary) {
    auto exists = conn_.exec("SELECT to_regclass($1) IS NOT NULL", {temporary ? "pg_temp." + table : table});
    if (std::string_view(PQgetvalue(exists.get(), 0, 0)) == "t") return;
    create_if_missing(std::string("CREATE ") + (temporary ? "TEMPORARY " : "") + "TABLE IF NOT EXISTS " + table +
                      " (LIKE " + target_ + " INCLUDING CONSTRAINTS, weir_seq bigint NOT NULL, weir_row bigint "
                      "NOT NULL)" + (temporary ? " ON COMMIT DELETE ROWS" : ""));
    for (auto& c : table_cols_)
      if (std::none_of(columns_.begin(), columns_.end(), [&](const column& w) { return w.name == c.name; }))
        conn_.exec("ALTER TABLE " + table + " DROP COLUMN " + ident(c.name) + " CASCADE");
  }

  /// Runs `f` under the savepoint `sp`: true when it succeeded; false when
  /// a row's data failed it (rolled back to the savepoint, the message in
  /// `why`). Any other failure propagates.
  template <class F>
  bool under_savepoint(const std::string& sp, std::string& why, F&& f) {
    conn_.exec("SAVEPOINT " + sp);
    try {
      f();
      conn_.exec("RELEASE SAVEPOINT " + sp);
      return true;
    } catch (const pg_failure& e) {
      if (!row_error(e)) throw;
      why = e.what();
    }
    conn_.exec("ROLLBACK TO SAVEPOINT " + sp);
    conn_.exec("RELEASE SAVEPOINT " + sp);
    return false;
  }

  /// COPY of rows [a, b) of the buffer under a savepoint; a row the table
  /// refuses is found by bisection and handed to on_error.
  void copy_rows(const std::string& stmt, std::size_t a, std::size_t b) {
    if (a >= b) return;
    std::string why;
    if (under_savepoint("weir_rows", why, [&] {
          std::size_t from = a == 0 ? 0 : line_end_[a - 1];
          conn_.copy(stmt, std::string_view(buf_).substr(from, line_end_[b - 1] - from));
        }))
      return;
    if (b - a == 1) {
      bad_row(rows_[a], why, "record " + std::to_string(seen_ - rows_.size() + a + 1));
      return;
    }
    std::size_t mid = a + (b - a) / 2;
    copy_rows(stmt, a, mid);
    copy_rows(stmt, mid, b);
  }

  /// Writes the buffered rows: to the staging table (checkpointed), or in one
  /// transaction to the target (without checkpoints).
  void flush() {
    if (rows_.empty()) return;
    if (ckpt_) {
      const std::uint64_t first = row_no_.front();
      with_retry("staging rows", [&](bool retrying) {
        conn_.exec("BEGIN");
        if (!staged_) ensure_stage(stage_, false);
        if (retrying)  // what a broken attempt may have committed
          conn_.exec("DELETE FROM " + stage_ + " WHERE weir_seq = $1 AND weir_row >= $2",
                     {std::to_string(next_seq_), std::to_string(first)});
        copy_rows(copy_stmt(stage_, true), 0, rows_.size());
        conn_.exec("COMMIT");
      });
      staged_ = true;
      epoch_staged_ = true;
    } else {
      with_retry("writing rows", [&](bool) {
        conn_.exec("BEGIN");
        if (o_.key.empty()) {
          copy_rows(copy_stmt(target_, false), 0, rows_.size());
        } else {
          ensure_stage("weir_batch", true);
          copy_rows(copy_stmt("weir_batch", true), 0, rows_.size());
          move_rows("weir_batch", 0, 0, nullptr);
        }
        conn_.exec("COMMIT");
      });
    }
    buf_.clear();
    line_end_.clear();
    rows_.clear();
    row_no_.clear();
  }

  /// INSERT ... SELECT of the staged rows with weir_seq in [lo, hi] (and
  /// weir_row in [ra, rb) when `rows` is given) into the target, later rows
  /// of a key winning an upsert.
  std::string move_sql(const std::string& from, bool ranged) const {
    std::string where = " WHERE weir_seq BETWEEN $1 AND $2" + std::string(ranged ? " AND weir_row >= $3 AND weir_row < $4" : "");
    if (o_.key.empty())
      return "INSERT INTO " + target_ + " (" + col_list_ + ") SELECT " + col_list_ + " FROM " + from + where +
             " ORDER BY weir_seq, weir_row";
    std::string keys;
    for (std::size_t i = 0; i < o_.key.size(); ++i) keys += (i ? ", " : "") + ident(o_.key[i]);
    std::string set;
    for (auto& c : columns_)
      if (std::find(o_.key.begin(), o_.key.end(), c.name) == o_.key.end())
        set += (set.empty() ? "" : ", ") + ident(c.name) + " = EXCLUDED." + ident(c.name);
    return "INSERT INTO " + target_ + " (" + col_list_ + ") SELECT DISTINCT ON (" + keys + ") " + col_list_ +
           " FROM " + from + where + " ORDER BY " + keys + ", weir_seq DESC, weir_row DESC ON CONFLICT (" + keys +
           ") " + (set.empty() ? "DO NOTHING" : "DO UPDATE SET " + set);
  }

  /// Moves the rows of epochs [lo, hi] of `from` into the target. A row the
  /// target refuses (a constraint) is found per epoch by bisection over its
  /// row numbers and handed to on_error. `epochs` gives the row counts
  /// (nullptr: one epoch, the buffered rows).
  void move_rows(const std::string& from, std::uint64_t lo, std::uint64_t hi, const std::vector<epoch>* epochs) {
    const std::string all = move_sql(from, false);
    std::string why;
    if (under_savepoint("weir_move", why, [&] { conn_.exec(all, {std::to_string(lo), std::to_string(hi)}); })) return;
    const std::string ranged = move_sql(from, true);
    auto bisect = [&](auto& self, std::uint64_t seq, std::uint64_t a, std::uint64_t b) -> void {
      if (a >= b) return;
      if (under_savepoint("weir_move", why, [&] {
            conn_.exec(ranged, {std::to_string(seq), std::to_string(seq), std::to_string(a), std::to_string(b)});
          }))
        return;
      if (b - a == 1) {
        if (!epochs) {
          bad_row(rows_[a], why, "record " + std::to_string(seen_ - rows_.size() + a + 1));
        } else {
          auto r = conn_.exec("SELECT (to_jsonb(weir_r) - 'weir_seq' - 'weir_row')::text FROM " + from +
                                  " weir_r WHERE weir_seq = $1 AND weir_row = $2",
                              {std::to_string(seq), std::to_string(a)});
          if (PQntuples(r.get()) > 0)
            bad_raw(PQgetvalue(r.get(), 0, 0), why, "epoch " + std::to_string(seq) + " row " + std::to_string(a));
        }
        return;
      }
      std::uint64_t mid = a + (b - a) / 2;
      self(self, seq, a, mid);
      self(self, seq, mid, b);
    };
    if (!epochs) {
      bisect(bisect, lo, 0, rows_.size());
      return;
    }
    for (auto& e : *epochs)
      if (e.seq >= lo && e.seq <= hi) bisect(bisect, e.seq, 0, e.rows);
  }

  // ---- epochs ------------------------------------------------------------------------------

  /// Ends the current epoch: its rows are staged (flush() ran), so it is
  /// pre-committed by being recorded.
  void precommit(std::uint64_t id) {
    if (!epoch_staged_) return;
    pending_.push_back({next_seq_, id, epoch_rows_});
    ++next_seq_;
    epoch_rows_ = 0;
    epoch_staged_ = false;
  }

  /// Moves every epoch pre-committed for a checkpoint <= id into the target,
  /// in one transaction with the epoch row. Idempotent.
  void commit_upto(std::uint64_t id) {
    std::vector<epoch> due;
    while (!pending_.empty() && pending_.front().checkpoint != 0 && pending_.front().checkpoint <= id) {
      due.push_back(pending_.front());
      pending_.erase(pending_.begin());
    }
    if (due.empty()) return;
    const std::uint64_t lo = due.front().seq, hi = due.back().seq;
    with_retry("committing epochs", [&](bool) {
      conn_.exec("BEGIN");
      auto r = conn_.exec("SELECT epoch FROM weir_sink_epochs WHERE sink_id = $1 FOR UPDATE", {o_.sink_id});
      std::int64_t done = PQntuples(r.get()) > 0 ? std::strtoll(PQgetvalue(r.get(), 0, 0), nullptr, 10) : -1;
      if (done >= static_cast<std::int64_t>(hi)) {  // committed before a crash
        conn_.exec("COMMIT");
        return;
      }
      const std::uint64_t from = std::max<std::int64_t>(static_cast<std::int64_t>(lo), done + 1);
      auto st = conn_.exec("SELECT to_regclass($1) IS NOT NULL", {stage_});
      if (std::string_view(PQgetvalue(st.get(), 0, 0)) != "t")
        fail("the staging table " + stage_name_ + " of pre-committed epochs " + std::to_string(from) + ".." +
             std::to_string(hi) + " is missing (dropped while the job was down?)");
      move_rows(stage_, from, hi, &due);
      crash_point("during_sink_commit");  // moved, not committed: the restart moves it again
      conn_.exec("DELETE FROM " + stage_ + " WHERE weir_seq <= $1", {std::to_string(hi)});
      conn_.exec("INSERT INTO weir_sink_epochs (sink_id, target, staging, epoch) VALUES ($1, $2, $3, $4) "
                 "ON CONFLICT (sink_id) DO UPDATE SET target = EXCLUDED.target, staging = EXCLUDED.staging, "
                 "epoch = EXCLUDED.epoch, committed_at = now()",
                 {o_.sink_id, o_.table, stage_name_, std::to_string(hi)});
      conn_.exec("COMMIT");
    });
    crash_point("after_sink_commit");  // committed; the checkpoint state still lists the epochs
  }

  postgres_sink_options o_;
  std::string label_, target_, schema_prefix_, stage_name_, stage_;
  connection conn_;
  bool ckpt_ = false;
  std::uint64_t seen_ = 0;                ///< records received
  std::vector<column> table_cols_;        ///< the target's columns
  std::vector<column> columns_;           ///< the columns written (fixed by the first record)
  std::string col_list_;                  ///< columns_ quoted, comma-separated
  std::vector<std::string> tuple_names_;  ///< "_1", "_2", ...
  std::vector<std::pair<std::string_view, const value*>> fields_;
  std::vector<const value*> slot_;
  std::string tmp_;
  // buffered rows
  std::string buf_;                       ///< COPY text rows
  std::vector<std::size_t> line_end_;     ///< end of each row in buf_
  records rows_;                          ///< the records, for on_error
  std::vector<std::uint64_t> row_no_;     ///< weir_row of each buffered row
  // checkpointed runs
  bool staged_ = false;                   ///< the staging table exists (created by this run)
  bool epoch_staged_ = false;             ///< the current epoch staged rows
  std::uint64_t next_seq_ = 1;            ///< weir_seq of the current epoch
  std::uint64_t epoch_rows_ = 0;          ///< weir_row numbers used in the current epoch
  std::vector<epoch> pending_;            ///< pre-committed, not committed, in order
};

}  // namespace

operator_ptr make_postgres_sink(postgres_sink_options opts) { return std::make_unique<postgres_sink>(std::move(opts)); }

}  // namespace weir::io
