// weir — the DSL's decoders and file/console sinks (formats.hpp): parameters,
// the checks that report a bad format, path or pattern at the argument, and
// the dstream call each one builds.
#include "weir/cli/stages/formats.hpp"

#include <fmt/format.h>

#include "weir/cli/arguments.hpp"
#include "weir/cli/suggest.hpp"

namespace weir::dsl {

namespace {

using P = param_type;
using bound = std::shared_ptr<const bound_stage>;
using input = std::optional<dstream>;

constexpr param_def on_error{"on_error", P::on_error};
constexpr stage_traits decoder{.timed = true};

bound bind_parse_log(const stage_args& a) {
  auto s = std::make_shared<decoder_stage>();
  std::string f;
  a.get("format", f);
  static const std::vector<std::string> formats = {"apache", "combined", "common"};
  if (f == "apache" || f == "combined") s->log_format = io::log_format::combined;
  else if (f == "common") s->log_format = io::log_format::common;
  else
    throw dsl_error(a.loc("format"), fmt::format("unknown log format \"{}\"{}; parse_log knows \"apache\" (the "
                                                 "combined format) and \"common\"",
                                                 f, did_you_mean(f, formats)));
  return s;
}

bound bind_parse_csv(const stage_args& a) {
  auto s = std::make_shared<decoder_stage>();
  a.get("header", s->csv.header);
  a.get("max_record_bytes", s->csv.max_record_bytes);
  for (std::string_view p : {"sep", "quote"}) {
    const ast::expr* e = a.given(p);
    if (!e) continue;
    (p == "sep" ? s->csv.sep : s->csv.quote) = char_arg(*e, p);
    if (s->csv.sep == s->csv.quote) throw dsl_error(e->loc, "sep and quote must differ");
  }
  return s;
}

/// fields = ".a.b[0]", [".a", ".b[0]"] (output names: the paths without the
/// dot) or {name: ".path", ...}.
bound bind_parse_json(const stage_args& a) {
  auto s = std::make_shared<decoder_stage>();
  a.get("validate", s->json.validate);
  value v;
  if (!a.get("fields", v)) return s;
  const source_location& loc = a.loc("fields");
  auto path = [&](const value& p, const std::string* name) {
    if (!p.is_string())
      throw dsl_error(loc, fmt::format("parse_json fields: a path must be a string like \".a.b[0]\", "
                                       "got {}",
                                       kind_name(p.type())));
    io::json_path jp;
    try {
      jp = io::json_path::parse(p.as_string());
    } catch (const pipeline_error& err) {
      throw dsl_error(loc, err.what());
    }
    if (name) jp.name = *name;
    s->json.fields.push_back(std::move(jp));
  };
  if (v.is_string()) {
    path(v, nullptr);
  } else if (v.is_array()) {
    for (auto& p : v.as_array()) path(p, nullptr);
  } else if (v.is_object()) {
    for (auto& f : v.as_object()) {
      std::string name(f.name.as_string());
      path(f.val, &name);
    }
  } else {
    throw dsl_error(loc, fmt::format("parse_json fields must be a path, an array of paths or an "
                                     "object {{name: path}}, got {}",
                                     kind_name(v.type())));
  }
  if (s->json.fields.empty()) throw dsl_error(loc, "parse_json fields must name at least one path");
  return s;
}

bound bind_parse_regex(const stage_args& a) {
  auto s = std::make_shared<decoder_stage>();
  a.get("pattern", s->pattern);
  try {
    (void)io::make_regex_decoder(s->pattern);
  } catch (const pipeline_error& err) {
    throw dsl_error(a.loc("pattern"), err.what());
  }
  return s;
}

bound bind_write_text(const stage_args& a) {
  auto s = std::make_shared<file_sink_stage>();
  if (a.get("dir", s->path) && s->path.empty()) throw dsl_error(a.loc("dir"), "the folder must not be empty");
  if (a.get("prefix", s->prefix) && (s->prefix.empty() || s->prefix.find('/') != std::string::npos))
    throw dsl_error(a.loc("prefix"), "the prefix must be a non-empty file name (no '/')");
  if (a.get("suffix", s->suffix) && s->suffix.find('/') != std::string::npos)
    throw dsl_error(a.loc("suffix"), "the suffix must not contain '/'");
  return s;
}

bound bind_write_csv(const stage_args& a) {
  auto s = std::make_shared<file_sink_stage>();
  if (a.get("path", s->path) && s->path.empty()) throw dsl_error(a.loc("path"), "the path must not be empty");
  return s;
}

bound bind_stdout(const stage_args& a) {
  auto s = std::make_shared<file_sink_stage>();
  std::string f;
  if (!a.get("format", f)) return s;
  static const std::vector<std::string> formats = {"jsonl", "text"};
  if (f == "jsonl") s->format = io::stdout_format::jsonl;
  else if (f == "text") s->format = io::stdout_format::text;
  else
    throw dsl_error(a.loc("format"),
                    fmt::format("unknown stdout format \"{}\"{} (jsonl or text)", f, did_you_mean(f, formats)));
  return s;
}

const decoder_stage& decoder_of(const stage_spec& st) { return st.as<decoder_stage>(); }
const file_sink_stage& sink_of(const stage_spec& st) { return st.as<file_sink_stage>(); }

}  // namespace

std::span<const stage_def> format_stages() {
  static const std::vector<stage_def> stages = {
      {"parse_log", stage_role::op, {{"format", P::string, true, "the log format"}, on_error},
       "parse_log(\"apache\" | \"common\", on_error = fail | skip | dead_letter(path))", bind_parse_log,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         return in->parse_log(decoder_of(st).log_format, b.policy(st.on_error));
       },
       decoder},
      {"parse_csv", stage_role::op,
       {{"header", P::boolean},
        {"sep", P::string},
        {"quote", P::string},
        {"max_record_bytes", P::integer, false, {}, 1, std::int64_t{1} << 40},
        on_error},
       "parse_csv(header = true, sep = \",\", quote = \"\\\"\", max_record_bytes = 1048576, on_error = fail)",
       bind_parse_csv,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         return in->parse_csv(decoder_of(st).csv, b.policy(st.on_error));
       },
       decoder},
      {"parse_json", stage_role::op, {{"fields", P::constant}, {"validate", P::boolean}, on_error},
       "parse_json(fields = [\".a.b[0]\", ...], validate = true, on_error = fail)", bind_parse_json,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         return in->parse_json(decoder_of(st).json, b.policy(st.on_error));
       },
       decoder},
      {"parse_regex", stage_role::op, {{"pattern", P::string, true, "the pattern"}, on_error},
       "parse_regex(\"(?<name>...)\", on_error = fail)", bind_parse_regex,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         return in->parse_regex(decoder_of(st).pattern, b.policy(st.on_error));
       },
       decoder},
      {"write_text", stage_role::sink,
       {{"dir", P::string, true, "the folder"}, {"prefix", P::string, false, "the prefix"},
        {"suffix", P::string, false, "the suffix"}},
       "write_text(dir, prefix = \"out\", suffix = \"txt\")", bind_write_text,
       [](stage_builder&, const stage_spec& st, const input& in) {
         const auto& s = sink_of(st);
         in->write_text(s.path, s.prefix, s.suffix);
         return *in;
       }},
      {"write_csv", stage_role::sink, {{"path", P::string, true, "the path"}}, "write_csv(path)", bind_write_csv,
       [](stage_builder&, const stage_spec& st, const input& in) {
         in->write_csv(sink_of(st).path);
         return *in;
       }},
      {"stdout", stage_role::sink, {{"format", P::string, false, "the format"}}, "stdout(format = \"jsonl\" | \"text\")",
       bind_stdout,
       [](stage_builder&, const stage_spec& st, const input& in) {
         in->to_stdout(sink_of(st).format);
         return *in;
       }},
  };
  return stages;
}

}  // namespace weir::dsl
