#include "weir/operators/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "weir/common/time.hpp"

namespace weir {
namespace {

std::atomic<log_format> g_format{log_format::text};
std::mutex g_mtx;
bool g_status_shown = false;  // guarded by g_mtx

const char* level_name(log_level l) {
  switch (l) {
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
  }
  return "info";
}

void write_locked(const std::string& s) {
  if (g_status_shown) {
    static constexpr char erase[] = "\r\x1b[K";
    std::fwrite(erase, 1, sizeof(erase) - 1, stderr);
    g_status_shown = false;
  }
  std::fwrite(s.data(), 1, s.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

void set_log_format(log_format f) noexcept { g_format.store(f); }
log_format current_log_format() noexcept { return g_format.load(); }

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

void log_message(log_level level, std::string_view msg, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string line;
  if (g_format.load() == log_format::json) {
    const std::int64_t now = wall_ms();
    line = "{\"level\":\"";
    line += level_name(level);
    line += "\",\"msg\":\"";
    line += json_escape(msg);
    line += "\",\"time_ms\":";
    line += std::to_string(now);
    for (auto& [k, v] : fields) {
      line += ",\"" + json_escape(k) + "\":\"" + json_escape(v) + "\"";
    }
    line += "}\n";
  } else {
    line = "weir: ";
    if (level != log_level::info) {
      line += level_name(level);
      line += ": ";
    }
    line += msg;
    if (!fields.empty()) {
      line += " (";
      bool first = true;
      for (auto& [k, v] : fields) {
        if (!first) line += ", ";
        first = false;
        line += k + "=" + v;
      }
      line += ")";
    }
    line += "\n";
  }
  std::lock_guard<std::mutex> lock(g_mtx);
  write_locked(line);
}

void log_raw_error(std::string_view msg) {
  if (g_format.load() == log_format::json) {
    log_message(log_level::error, msg);
    return;
  }
  std::string line(msg);
  if (line.empty() || line.back() != '\n') line += '\n';
  std::lock_guard<std::mutex> lock(g_mtx);
  write_locked(line);
}

void set_status_line(std::string_view s) {
  std::lock_guard<std::mutex> lock(g_mtx);
  std::string out = "\r";
  out += s;
  out += "\x1b[K";
  if (s.empty()) {
    if (!g_status_shown) return;
    g_status_shown = false;
  } else {
    g_status_shown = true;
  }
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

}  // namespace weir
