// The PostgreSQL sink's libpq layer (io/detail/postgres_connection.hpp): the
// connection with its failures classified, statements, COPY FROM STDIN in
// chunks, identifier quoting and the COPY text encoding of values.
#include "weir/io/detail/postgres_connection.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace weir::io::detail {
namespace {

std::string trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (auto& c : s)
    if (c == '\n') c = ' ';
  return s;
}

}  // namespace

bool row_error(const pg_failure& f) {
  return !f.lost && f.sqlstate.size() == 5 && (f.sqlstate.starts_with("22") || f.sqlstate.starts_with("23"));
}

void connection::open(const std::string& url, std::chrono::milliseconds timeout) {
  close();
  const std::string tmo = std::to_string(std::max<std::int64_t>(1, (timeout.count() + 999) / 1000));
  // Keywords after dbname override the URL's own settings only where the URL has none.
  const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname", nullptr};
  const char* vals[] = {tmo.c_str(), "weir", "UTF8", url.c_str(), nullptr};
  c_ = PQconnectdbParams(keys, vals, 1);
  if (!c_) throw pg_failure("out of memory", "", true);
  if (PQstatus(c_) != CONNECTION_OK) {
    std::string msg = trimmed(PQerrorMessage(c_));
    bool permanent = PQconnectionNeedsPassword(c_) || msg.find("authentication failed") != std::string::npos ||
                     msg.find("does not exist") != std::string::npos ||
                     msg.find("invalid connection option") != std::string::npos ||
                     msg.find("invalid URI") != std::string::npos ||
                     msg.find("missing \"=\"") != std::string::npos;
    close();
    throw pg_failure(msg, "", !permanent);
  }
  PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
}

void connection::close() {
  if (c_) PQfinish(c_);
  c_ = nullptr;
}

bool connection::ok() const { return c_ && PQstatus(c_) == CONNECTION_OK; }

std::string connection::where() const {
  if (!c_) return "?";
  std::string h = PQhost(c_) ? PQhost(c_) : "";
  return h + ":" + (PQport(c_) ? PQport(c_) : "") + "/" + (PQdb(c_) ? PQdb(c_) : "");
}

result_ptr connection::exec(const std::string& sql, const std::vector<std::string>& params) {
  need();
  std::vector<const char*> p;
  for (auto& s : params) p.push_back(s.c_str());
  result_ptr r(params.empty() ? PQexec(c_, sql.c_str())
                              : PQexecParams(c_, sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(),
                                             nullptr, nullptr, 0));
  check(r.get());
  return r;
}

void connection::copy(const std::string& stmt, std::string_view data) {
  need();
  result_ptr r(PQexec(c_, stmt.c_str()));
  if (!r || PQresultStatus(r.get()) != PGRES_COPY_IN) {
    check(r.get());
    throw pg_failure("COPY did not start", "", !ok());
  }
  constexpr std::size_t chunk = 1 << 18;
  for (std::size_t at = 0; at < data.size(); at += chunk) {
    std::size_t n = std::min(chunk, data.size() - at);
    if (PQputCopyData(c_, data.data() + at, static_cast<int>(n)) != 1) lost_now();
  }
  if (PQputCopyEnd(c_, nullptr) != 1) lost_now();
  result_ptr last;
  while (PGresult* x = PQgetResult(c_)) last.reset(x);
  check(last.get());
}

void connection::need() {
  if (!ok()) throw pg_failure("the connection is closed", "", true);
}

void connection::lost_now() { throw pg_failure(trimmed(PQerrorMessage(c_)), "", true); }

void connection::check(PGresult* r) {
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return;
  std::string state = r && PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "";
  std::string msg = r && PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                        ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                        : trimmed(PQerrorMessage(c_));
  if (msg.empty()) msg = "unknown error";
  // class 08: connection exception; 57P01-57P03: the server is shutting down or starting
  bool gone = PQstatus(c_) != CONNECTION_OK || state.starts_with("08") || state == "57P01" || state == "57P02" ||
              state == "57P03";
  throw pg_failure(state.empty() ? msg : msg + " (" + state + ")", state, gone);
}

std::string ident(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void split_table(const std::string& t, std::string& schema, std::string& name) {
  auto dot = t.find('.');
  if (dot == std::string::npos) {
    schema.clear();
    name = t;
  } else {
    schema = t.substr(0, dot);
    name = t.substr(dot + 1);
  }
}

void append_copy_text(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
}

void append_copy_value(std::string& out, const value& v, column_kind k, std::string& tmp) {
  if (k == column_kind::json) {
    tmp.clear();
    v.append_json(tmp);
    append_copy_text(out, tmp);
    return;
  }
  switch (v.type()) {
    case kind::boolean: out += v.as_bool() ? 't' : 'f'; break;
    case kind::integer: {
      char b[24];
      auto res = std::to_chars(b, b + sizeof b, v.as_int());
      out.append(b, res.ptr);
      break;
    }
    case kind::real: {
      double d = v.as_real();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
      else {
        char b[40];
        auto res = std::to_chars(b, b + sizeof b, d);
        out.append(b, res.ptr);
      }
      break;
    }
    case kind::string: append_copy_text(out, v.as_string()); break;
    default:
      tmp.clear();
      v.append_json(tmp);
      append_copy_text(out, tmp);
  }
}

const char* sql_type_of(const value& v) {
  switch (v.type()) {
    case kind::boolean: return "boolean";
    case kind::integer: return "bigint";
    case kind::real: return "double precision";
    case kind::array:
    case kind::object: return "jsonb";
    case kind::null:
    case kind::string: return "text";
  }
  return "text";
}

}  // namespace weir::io::detail
