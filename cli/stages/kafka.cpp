// weir — the DSL's Kafka source and sink (kafka.hpp): parameters, checks at
// the argument (topics, start, until), and the API call each one builds.
#include "weir/cli/stages/kafka.hpp"

#include <fmt/format.h>

#include "weir/cli/suggest.hpp"

namespace weir::dsl {

namespace {

using P = param_type;
using bound = std::shared_ptr<const bound_stage>;
using input = std::optional<dstream>;

/// A string argument that must not be empty ("kafka brokers must not be empty").
bool nonempty(const stage_args& a, std::string_view p, std::string& out) {
  if (!a.get(p, out)) return false;
  if (out.empty()) throw dsl_error(a.loc(p), fmt::format("{} {} must not be empty", a.stage(), p));
  return true;
}

bound bind_kafka(const stage_args& a) {
  auto s = std::make_shared<kafka_stage>();
  auto& k = s->options;
  std::string v;
  if (nonempty(a, "topics", v)) {
    k.topics.clear();
    std::size_t b = 0;
    for (;;) {
      std::size_t c = v.find(',', b);
      std::string t = v.substr(b, c == std::string::npos ? std::string::npos : c - b);
      if (t.empty()) throw dsl_error(a.loc("topics"), fmt::format("empty topic name in \"{}\"", v));
      k.topics.push_back(std::move(t));
      if (c == std::string::npos) break;
      b = c + 1;
    }
  }
  nonempty(a, "brokers", k.brokers);
  nonempty(a, "group", k.group);
  if (a.get("start", v)) {
    static const std::vector<std::string> starts = {"earliest", "latest", "committed"};
    if (v == "earliest") k.start = io::kafka_start::earliest;
    else if (v == "latest") k.start = io::kafka_start::latest;
    else if (v == "committed") k.start = io::kafka_start::committed;
    else
      throw dsl_error(a.loc("start"),
                      fmt::format("start must be \"earliest\", \"latest\" or \"committed\", got \"{}\"{}", v,
                                  did_you_mean(v, starts)));
  }
  a.get("metadata", k.metadata);
  if (a.get("until", v)) {
    if (v != "end")
      throw dsl_error(a.loc("until"),
                      fmt::format("until must be \"end\" (stop at the partitions' ends at start), got \"{}\"", v));
    k.until_end = true;
  }
  a.get("timeout", k.timeout);
  a.get("parallelism", k.parallelism);
  return s;
}

bound bind_kafka_out(const stage_args& a) {
  auto s = std::make_shared<kafka_out_stage>();
  auto& k = s->options;
  if (nonempty(a, "topic", k.topic) && k.topic.find(',') != std::string::npos)
    throw dsl_error(a.loc("topic"), fmt::format("kafka_out writes to one topic, got \"{}\"", k.topic));
  nonempty(a, "brokers", k.brokers);
  s->has_key = a.get("key", s->key);
  a.get("timeout", k.timeout);
  return s;
}

}  // namespace

std::span<const stage_def> kafka_stages() {
  static const std::vector<stage_def> stages = {
      {"kafka", stage_role::source,
       {{"topics", P::string, true},
        {"brokers", P::string},
        {"group", P::string},
        {"start", P::string},
        {"metadata", P::boolean},
        {"until", P::string},
        {"timeout", P::duration},
        {"parallelism", P::integer, false, {}, 1, 1 << 12}},
       "kafka(\"topic1,topic2\", brokers = \"host:port\", group = \"weir\", "
       "start = \"earliest\" | \"latest\" | \"committed\", metadata = false, until = \"end\", timeout = 10s, "
       "parallelism = 1)",
       bind_kafka,
       [](stage_builder& b, const stage_spec& st, const input&) {
         return b.context().kafka_stream(st.as<kafka_stage>().options);
       }},
      {"kafka_out", stage_role::sink,
       {{"topic", P::string, true},
        {"brokers", P::string},
        {"key", P::function, false, "kafka_out(key = ...)"},
        {"timeout", P::duration}},
       "kafka_out(\"topic\", brokers = \"host:port\", key = expr, timeout = 30s)", bind_kafka_out,
       [](stage_builder&, const stage_spec& st, const input& in) {
         const auto& s = st.as<kafka_out_stage>();
         io::kafka_sink_options o = s.options;
         if (s.has_key) o.key = [fn = s.key](const value& v) { return fn(v); };
         in->kafka_out(std::move(o));
         return *in;
       }},
  };
  return stages;
}

}  // namespace weir::dsl
