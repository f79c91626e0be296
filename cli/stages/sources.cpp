// weir — the DSL's sources (sources.hpp): parameters, checks, and the
// streaming_context call each one builds.
#include "weir/cli/stages/sources.hpp"

#include <fmt/format.h>

#include "weir/cli/arguments.hpp"
#include "weir/cli/suggest.hpp"
#include "weir/io/bench_generators.hpp"
#include "weir/io/receiver.hpp"

namespace weir::dsl {

namespace {

using P = param_type;
using bound = std::shared_ptr<const bound_stage>;
using input = std::optional<dstream>;
constexpr std::int64_t max_int = std::numeric_limits<std::int64_t>::max();

bound bind_file(const stage_args& a) {
  auto s = std::make_shared<file_stage>();
  a.get("path", s->path);
  if (a.takes("total")) a.get("total", s->total);
  if (a.takes("partitions")) a.get("partitions", s->partitions);
  if (a.takes("parallelism")) a.get("parallelism", s->parallelism);
  return s;
}

bound bind_generate(const stage_args& a) {
  auto s = std::make_shared<generate_stage>();
  auto& g = s->options;
  if (a.get("kind", s->kind)) {
    static const std::vector<std::string> generators = {"access_log", "ysb", "nexmark"};
    if (s->kind != "access_log" && s->kind != "ysb" && s->kind != "nexmark")
      throw dsl_error(a.loc("kind"), fmt::format("unknown generator \"{}\"{}", s->kind,
                                                 did_you_mean(s->kind, generators)));
  }
  // ysb and nexmark take rate, count and seed only
  auto access_log_only = [&](std::string_view p) {
    if (s->kind != "access_log" && a.given(p))
      throw dsl_error(a.loc(p), fmt::format("generate(\"{}\") takes rate, count and seed, not '{}'", s->kind, p));
  };
  a.get("rate", g.rate);
  a.get("count", g.count);
  access_log_only("duration");
  a.get("duration", g.duration);
  a.get("seed", g.seed);
  access_log_only("paths");
  a.get("paths", g.paths);
  access_log_only("zipf");
  a.get("zipf", g.zipf_s);
  if (s->kind == "access_log" && a.given("parallelism"))
    throw dsl_error(a.loc("parallelism"),
                    "generate(\"access_log\") runs as one instance (its records come from one random sequence "
                    "and `duration` ends it by the clock); 'parallelism' applies to \"ysb\" and \"nexmark\"");
  a.get("parallelism", s->parallelism);
  return s;
}

dstream build_generate(stage_builder& b, const stage_spec& st, const input&) {
  const auto& s = st.as<generate_stage>();
  if (s.kind == "ysb") {
    io::ysb_options y;
    y.rate = s.options.rate;
    y.count = s.options.count;
    y.seed = s.options.seed;
    return b.context().ysb(y, nullptr, static_cast<int>(s.parallelism));
  }
  if (s.kind == "nexmark") {
    io::nexmark_options n;
    n.rate = s.options.rate;
    n.count = s.options.count;
    n.seed = s.options.seed;
    return b.context().nexmark(n, static_cast<int>(s.parallelism));
  }
  return b.context().access_log(s.options);
}

/// dir, socket and listen; a host:port is checked here, at the argument.
bound bind_receiver_options(const stage_args& a) {
  auto s = std::make_shared<receiver_options_stage>();
  const bool is_dir = a.def().name == "dir", is_listen = a.def().name == "listen";
  const std::string_view where = is_dir ? "path" : "address";
  a.get(where, s->address);
  if (!is_dir) {
    try {  // "expected host:port" at the argument
      io::parse_endpoint(s->address, is_listen, fmt::format("{}()", a.stage()));
    } catch (const pipeline_error& err) {
      throw dsl_error(a.loc(where), err.what());
    }
  }
  if (is_dir) {
    a.get("include_existing", s->dir.include_existing);
    a.get("poll", s->dir.poll);
    a.get("parallelism", s->parallelism);
  } else if (is_listen) {
    a.get("connections", s->listen.connections);
  } else {
    a.get("reconnect", s->socket.reconnect);
    a.get("retries", s->socket.retries);
    a.get("timeout", s->socket.connect_timeout);
  }
  return s;
}

/// receiver("name", args...): the other arguments are constants handed to
/// the registered factory.
bound bind_custom_receiver(const stage_args& a) {
  const ast::stage& s = a.call();
  const stage_def& d = a.def();
  if (!s.named.empty())
    throw dsl_error(s.named.front().loc,
                    fmt::format("unknown named argument '{}': receiver() takes positional arguments "
                                "only (usage: {})",
                                s.named.front().name, d.usage));
  if (s.args.empty())
    throw dsl_error(s.loc, fmt::format("wrong number of arguments: receiver() needs the name of a "
                                       "registered receiver (usage: {})",
                                       d.usage));
  auto r = std::make_shared<custom_receiver_stage>();
  r->name = string_arg(*s.args[0], "the receiver name");
  if (!io::find_receiver(r->name)) {
    auto names = io::registered_receivers();
    throw dsl_error(s.args[0]->loc,
                    fmt::format("unknown receiver \"{}\"{}; receivers are registered from C++ with "
                                "weir::register_receiver{}",
                                r->name, did_you_mean(r->name, names),
                                names.empty() ? " (none is registered)" : ""));
  }
  for (std::size_t i = 1; i < s.args.size(); ++i) r->args.push_back(evaluate_constant(*s.args[i]));
  return r;
}

}  // namespace

std::span<const stage_def> source_stages() {
  static const std::vector<stage_def> stages = {
      {"file", stage_role::source,
       {{"path", P::path, true}, {"parallelism", P::integer, false, {}, 1, 1 << 12}},
       "file(path, parallelism = N)", bind_file,
       [](stage_builder& b, const stage_spec& st, const input&) {
         const auto& s = st.as<file_stage>();
         return b.context().text_file(s.path, static_cast<int>(s.parallelism));
       }},
      {"stdin", stage_role::source, {}, "stdin()", bind_no_args,
       [](stage_builder& b, const stage_spec&, const input&) { return b.context().stdin_lines(); },
       {.once_per_script = true}},
      {"generate", stage_role::source,
       {{"kind", P::string, true, "the generator"},
        {"rate", P::number},
        {"count", P::integer, false, {}, 0, max_int},
        {"duration", P::duration_literal},
        {"seed", P::integer, false, {}, 0, max_int},
        {"paths", P::integer, false, {}, 1, 1 << 30},
        {"zipf", P::number},
        {"parallelism", P::integer, false, {}, 1, 1 << 12}},
       "generate(\"access_log\" | \"ysb\" | \"nexmark\", rate = N, count = N, duration = D, seed = N, paths = N, zipf = X, "
       "parallelism = N)",
       bind_generate, build_generate},
      {"batches", stage_role::source,
       {{"path", P::path, true},
        {"total", P::integer, false, {}, 0, max_int},
        {"partitions", P::integer, false, {}, 1, 1024}},
       "batches(path, total = 0, partitions = 1)", bind_file,
       [](stage_builder& b, const stage_spec& st, const input&) {
         const auto& s = st.as<file_stage>();
         return b.context().batches(s.path, s.total, static_cast<int>(s.partitions));
       }},
      {"dir", stage_role::source,
       {{"path", P::path, true},
        {"include_existing", P::boolean},
        {"poll", P::duration},
        {"parallelism", P::integer, false, {}, 1, 1 << 12}},
       "dir(path, include_existing = false, poll = 100ms, parallelism = N)", bind_receiver_options,
       [](stage_builder& b, const stage_spec& st, const input&) {
         const auto& s = st.as<receiver_options_stage>();
         return b.context().text_file_stream(s.address, s.dir, static_cast<int>(s.parallelism));
       }},
      {"socket", stage_role::source,
       {{"address", P::path, true, "address"},
        {"reconnect", P::boolean},
        {"retries", P::integer, false, {}, 1, 1'000'000},
        {"timeout", P::duration},
        {"on_error", P::on_error}},
       "socket(\"host:port\", reconnect = true, retries = 5, timeout = 2s, on_error = fail)", bind_receiver_options,
       [](stage_builder& b, const stage_spec& st, const input&) {
         const auto& s = st.as<receiver_options_stage>();
         io::socket_options o = s.socket;
         o.on_error = b.policy(st.on_error);  // a line over the limit
         return b.context().socket_text_stream(s.address, o);
       }},
      {"listen", stage_role::source,
       {{"address", P::path, true, "address"},
        {"connections", P::integer, false, {}, 0, max_int},
        {"on_error", P::on_error}},
       "listen(\":port\", connections = 0, on_error = fail)", bind_receiver_options,
       [](stage_builder& b, const stage_spec& st, const input&) {
         const auto& s = st.as<receiver_options_stage>();
         io::listen_options o = s.listen;
         o.on_error = b.policy(st.on_error);  // a line over the limit: that connection's
         return b.context().listen_text_stream(s.address, o);
       }},
      {"receiver", stage_role::source, {{"name", P::string, true}}, "receiver(\"name\", args...)",
       bind_custom_receiver,
       [](stage_builder& b, const stage_spec& st, const input&) {
         const auto& s = st.as<custom_receiver_stage>();
         return b.context().receiver_stream(s.name, s.args);
       },
       {.own_arguments = true}},
  };
  return stages;
}

}  // namespace weir::dsl
