// weir — internal: the PostgreSQL sink's libpq layer (io/postgres_sink.cpp):
// one connection with its failures classified (connection lost vs. a
// statement refused, with the SQLSTATE), statements and COPY FROM STDIN, SQL
// identifier quoting and the COPY text encoding of values. Not public API.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "weir/operators/value.hpp"

namespace weir::io::detail {

/// A failed libpq call. `lost`: the connection is gone (retry after
/// reconnecting); otherwise the statement failed with `sqlstate`.
struct pg_failure : std::runtime_error {
  pg_failure(std::string msg, std::string state, bool gone)
      : std::runtime_error(std::move(msg)), sqlstate(std::move(state)), lost(gone) {}
  std::string sqlstate;
  bool lost;
};

/// A failure caused by one row's data: a data exception (22: invalid input,
/// out of range, bad UTF-8) or an integrity constraint (23: not null, check,
/// unique, foreign key).
bool row_error(const pg_failure& f);

struct result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

/// One libpq connection. @thread one thread at a time (libpq's own rule).
class connection {
public:
  connection() = default;
  ~connection() { close(); }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Connects to `url` (a libpq URI or key=value string), `timeout` rounded
  /// up to whole seconds. @throws pg_failure (lost = the server may come
  /// back; not lost = a setting that will not change, such as a wrong
  /// password or database).
  void open(const std::string& url, std::chrono::milliseconds timeout);

  void close();
  bool ok() const;

  /// "host:port/db" for messages.
  std::string where() const;

  /// Runs `sql` (with text parameters); returns the result of a successful
  /// command or query. @throws pg_failure.
  result_ptr exec(const std::string& sql, const std::vector<std::string>& params = {});

  /// COPY ... FROM STDIN with `data` (COPY text rows). @throws pg_failure.
  void copy(const std::string& stmt, std::string_view data);

private:
  void need();
  [[noreturn]] void lost_now();
  void check(PGresult* r);

  PGconn* c_ = nullptr;
};

/// A double-quoted identifier.
std::string ident(std::string_view s);

/// "schema.table" -> its parts, unquoted; the schema is "" (the search path)
/// when `t` has no dot.
void split_table(const std::string& t, std::string& schema, std::string& name);

/// How a column's values are written.
enum class column_kind : std::uint8_t { text, json };

struct column {
  std::string name;
  column_kind kind = column_kind::text;
};

/// Appends `s` escaped for COPY's text format.
void append_copy_text(std::string& out, std::string_view s);

/// Appends the COPY text of a non-null value `v` for a column of kind `k`
/// (jsonb columns: the value's JSON; otherwise booleans as t/f, numbers with
/// NaN/Infinity spelled as PostgreSQL reads them, strings as they are,
/// arrays and objects as JSON). `tmp` is scratch space.
void append_copy_value(std::string& out, const value& v, column_kind k, std::string& tmp);

/// The SQL type of a column created for the value `v` of the first record.
const char* sql_type_of(const value& v);

}  // namespace weir::io::detail
