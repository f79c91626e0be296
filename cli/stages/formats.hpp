// weir — the DSL's decoders (parse_log, parse_csv, parse_json, parse_regex:
// lines of text into records, io/decoders.hpp) and file and console sinks
// (write_text, write_csv, stdout: io/sinks.hpp). Decoders take `on_error`
// and, like sources, `time = expr, watermark = d, idle_timeout = d`.
#pragma once

#include <span>
#include <string>

#include "weir/cli/stage_registry.hpp"
#include "weir/io/decoders.hpp"
#include "weir/io/sinks.hpp"

namespace weir::dsl {

/// parse_log(format), parse_csv(header, sep, quote), parse_json(fields), parse_regex(pattern).
struct decoder_stage final : bound_stage {
  io::log_format log_format = io::log_format::combined;  ///< parse_log
  io::csv_options csv;                                   ///< parse_csv
  io::json_options json;                                 ///< parse_json
  std::string pattern;                                   ///< parse_regex
};

/// write_text(dir, prefix, suffix), write_csv(path), stdout(format).
struct file_sink_stage final : bound_stage {
  std::string path;                                        ///< write_text: the folder
  std::string prefix = "out", suffix = "txt";              ///< write_text
  io::stdout_format format = io::stdout_format::jsonl;     ///< stdout
};

std::span<const stage_def> format_stages();

}  // namespace weir::dsl
