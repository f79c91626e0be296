// weir — the one place weir writes diagnostics to stderr.
//
// Warnings (a socket reconnecting, a partial line at a disconnect), errors
// (the CLI's final "weir: error: ...") and informational lines all go through
// weir::log_message(). Two formats:
//   text (default): "weir: warning: <msg>"           (one line)
//   json:           {"level":"warning","msg":"<msg>","time_ms":1700000000000}  (one JSON object per line)
// A live status line (the CLI's progress display on a terminal) is owned
// here too, so a log line never interleaves with it: set_status_line() draws
// it with a carriage return, log_message() erases it first and the next
// set_status_line() redraws it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weir {

enum class log_level { info, warning, error };
enum class log_format { text, json };

/// Chooses the format of every following log_message() line (process-wide).
/// @thread Safe from any thread.
void set_log_format(log_format f) noexcept;
log_format current_log_format() noexcept;

/// Writes one diagnostic line to stderr in the current format. Text:
/// "weir: <level>: <msg>" ("weir: <msg>" for info); `fields` are appended as
/// " (key=value, ...)". JSON: {"level", "msg", "time_ms" (Unix ms), then the
/// fields as strings}; newlines in `msg` are escaped, so it stays one line.
/// @thread Safe from any thread; lines never interleave.
void log_message(log_level level, std::string_view msg,
         const std::vector<std::pair<std::string, std::string>>& fields = {});

/// Text mode only: writes `msg` to stderr as is (no prefix), e.g. a
/// multi-line DSL error with its caret; in JSON mode it is logged as an error.
void log_raw_error(std::string_view msg);

/// Shows `line` as the live status line on stderr ("\r<line>\x1b[K", no
/// newline); an empty `line` erases it. Meant for a terminal.
/// @thread Safe from any thread.
void set_status_line(std::string_view line);

/// Escapes `s` as the contents of a JSON string (RFC 8259: quote, backslash,
/// control characters as \n, \t, \u00XX).
std::string json_escape(std::string_view s);

}  // namespace weir
