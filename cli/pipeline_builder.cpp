#include "weir/cli/pipeline_builder.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "weir/io/bench_generators.hpp"
#include "weir/io/dead_letter.hpp"
#include "weir/io/json.hpp"

namespace weir::dsl {

context_options make_context_options(const settings& script, const settings& overrides) {
  context_options o;
  auto pick = [](const auto& cli, const auto& scr, auto& out) {
    if (cli) out = *cli;
    else if (scr) out = *scr;
  };
  pick(overrides.batch_interval, script.batch_interval, o.batch_interval);
  pick(overrides.parallelism, script.parallelism, o.parallelism);
  pick(overrides.batch_size, script.batch_size, o.batch_size);
  pick(overrides.edge_capacity, script.edge_capacity, o.edge_capacity);
  pick(overrides.threads, script.threads, o.threads);
  pick(overrides.mode, script.mode, o.mode);
  pick(overrides.linger, script.linger, o.linger);
  return o;
}

namespace {

[[noreturn]] void fail_at(const element_function& fn, const std::string& msg) {
  throw record_error(fn.where().str() + ": " + msg);
}

/// The late-record side output `late = write_jsonl(path)`: one JSON line per
/// late record, shared by the parallel instances of an aggregate.
class late_writer {
public:
  explicit late_writer(const std::string& path) : f_(std::fopen(path.c_str(), "w")) {
    if (!f_) throw pipeline_error(fmt::format("write_jsonl(\"{}\"): cannot open: {}", path, std::strerror(errno)));
  }
  ~late_writer() {
    if (f_) std::fclose(f_);
  }
  late_writer(const late_writer&) = delete;
  late_writer& operator=(const late_writer&) = delete;
  void write(const value& v) {
    std::string line = v.to_json();
    line += '\n';
    std::lock_guard<std::mutex> lock(m_);
    std::fwrite(line.data(), 1, line.size(), f_);
  }

private:
  std::mutex m_;
  std::FILE* f_;
};

/// What the builder knows of a stream's event time: the `time =` expression
/// that set its watermark, as long as the records keep their shape.
struct time_info {
  std::optional<element_function> time;
  source_location loc;
  std::string lost_by;  ///< the stage after which `time` no longer applies
};

class builder {
public:
  builder(const pipeline_spec& spec, streaming_context& ctx) : spec_(spec), ctx_(ctx) {}

  void run() {
    for (auto& p : spec_.pipelines) build(p);
  }

private:
  std::optional<dstream> build(const pipeline_def& def) {
    std::optional<dstream> ds;
    time_ = time_info{};
    for (auto& st : def.stages) {
      try {
        ds = stage(st, ds);
        ds = event_time(st, *ds);
      } catch (const pipeline_error& e) {
        throw dsl_error(st.loc, e.what());
      }
    }
    if (!def.name.empty()) stream_time_[def.name] = time_;
    return ds;
  }

  /// `time = expr, watermark = d` on a source or decoder: the assigner goes
  /// right after it. Tracks whether later stages keep the records' shape.
  dstream event_time(const stage_spec& st, dstream ds) {
    if (st.kind == stage_kind::stream_ref) {
      time_ = stream_time_[st.stream];
      return ds;
    }
    if (st.kind == stage_kind::aggregate) {
      time_ = time_info{};
      time_.lost_by = st.name;
      return ds;
    }
    if (st.event_time.set) {
      watermark_options o = watermark_of(st.event_time);
      o.on_error = policy(st);  // a decoder's on_error also covers its time field
      ds = ds.with_watermark(std::move(o));
      time_ = time_info{st.event_time.time, st.event_time.loc, {}};
      return ds;
    }
    if (st.kind != stage_kind::filter && time_.time) {
      time_.time.reset();
      time_.lost_by = st.name;
    }
    return ds;
  }

  static watermark_options watermark_of(const event_time_spec& et) {
    watermark_options o;
    o.time = et.time;
    o.time_text = fmt::format("time (at {})", et.loc.str());
    o.delay = et.watermark;
    o.idle_timeout = et.idle_timeout;
    return o;
  }

  dstream aggregate(const stage_spec& st, dstream in) {
    event_window_options o;
    o.window = st.ewindow;
    o.agg = st.agg;
    o.allowed_lateness = st.allowed_lateness;
    o.output = st.output;
    if (st.has_value) o.value_of = st.value_fn;
    if (st.event_time.set) {
      o.time = st.event_time.time;
      o.time_text = fmt::format("time (at {})", st.event_time.loc.str());
      // its own watermark, unless the stream already has one and none is asked for here
      if (st.event_time.has_watermark || !time_.time) in = in.with_watermark(watermark_of(st.event_time));
    } else if (time_.time) {
      o.time = *time_.time;
      o.time_text = fmt::format("time (at {})", time_.loc.str());
    } else if (!time_.lost_by.empty() && time_.loc.line > 0) {
      throw dsl_error(st.loc, fmt::format("aggregate: the event time set at {} does not apply after {}() "
                                          "changed the records; give aggregate(time = ...) here",
                                          time_.loc.str(), time_.lost_by));
    }  // else: processing time
    if (!st.late_path.empty()) {
      std::shared_ptr<late_writer> w;
      try {
        w = std::make_shared<late_writer>(st.late_path);
      } catch (const pipeline_error& e) {
        throw dsl_error(st.late_loc, e.what());
      }
      o.late = [w](const value& v) { w->write(v); };
    }
    return in.aggregate(std::move(o), st.has_key ? extract_fn(st.key_fn) : extract_fn{});
  }

  dstream stream(const std::string& name) {
    if (auto it = built_.find(name); it != built_.end()) return it->second;
    for (auto& def : spec_.streams)
      if (def.name == name) {
        time_info saved = time_;
        dstream ds = *build(def);
        time_ = saved;
        built_.emplace(name, ds);
        return ds;
      }
    throw pipeline_error("internal error: unknown stream '" + name + "'");
  }

  /// Window and slide (if given) must be multiples of the batch interval and
  /// of the input stream's slide (Spark's rules), reported at the argument.
  void check_window(const stage_spec& st, const dstream& in) {
    check_multiple(st.window, st.window_loc, "window", in);
    if (st.slide.count() > 0) check_multiple(st.slide, st.slide_loc, "slide", in);
  }

  void check_multiple(std::chrono::milliseconds d, const source_location& loc, std::string_view what,
                      const dstream& in) {
    auto b = ctx_.options().batch_interval;
    if (b.count() > 0 && d.count() % b.count() != 0)
      throw dsl_error(loc, fmt::format("{} {} is not a multiple of the batch interval {}", what,
                                       format_duration(d), format_duration(b)));
    auto s = in.slide();
    if (s.count() > 0 && d.count() % s.count() != 0)
      throw dsl_error(loc, fmt::format("{} {} is not a multiple of the input stream's slide {}", what,
                                       format_duration(d), format_duration(s)));
  }

  /// A JSON-lines file of [key, value] pairs, loaded now; errors at `loc`.
  static records load_pairs(const std::string& path, const source_location& loc, std::string_view what) {
    records recs;
    try {
      recs = io::read_jsonl(path);
    } catch (const std::exception& e) {
      throw dsl_error(loc, fmt::format("{}: {}", what, e.what()));
    }
    for (std::size_t i = 0; i < recs.size(); ++i) {
      const value& r = recs[i];
      if (!r.is_array() || r.as_array().size() != 2) {
        std::string shown = r.to_json();
        if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
        throw dsl_error(loc, fmt::format("{}: {}: record {} is not a [key, value] pair: {}", what, path,
                                         i + 1, shown));
      }
    }
    return recs;
  }

  static join_kind kind_of(stage_kind k) {
    switch (k) {
      case stage_kind::left_outer_join: return join_kind::left_outer;
      case stage_kind::right_outer_join: return join_kind::right_outer;
      case stage_kind::full_outer_join: return join_kind::full_outer;
      default: return join_kind::inner;
    }
  }

  static filter_fn bool_function(const element_function& fn, std::string what) {
    return [fn, what](const value& v) {
      value r = fn(v);
      if (!r.is_bool()) fail_at(fn, fmt::format("{} expects a bool, got {}", what, kind_name(r.type())));
      return r.as_bool();
    };
  }

  static flat_map_fn array_function(const element_function& fn, std::string what) {
    return [fn, what](const value& v, records& out) {
      value r = fn(v);
      if (r.is_null()) return;
      if (!r.is_array()) fail_at(fn, fmt::format("{} expects an array, got {}", what, kind_name(r.type())));
      for (auto& x : r.as_array()) out.push_back(x);
    };
  }

  std::optional<dstream> stage(const stage_spec& st, std::optional<dstream>& in) {
    switch (st.kind) {
      // sources
      case stage_kind::file: return ctx_.text_file(st.path);
      case stage_kind::stdin_lines: return ctx_.stdin_lines();
      case stage_kind::generate:
        if (st.generator_kind == "ysb") {
          io::ysb_options y;
          y.rate = st.generator.rate;
          y.count = st.generator.count;
          y.seed = st.generator.seed;
          return ctx_.ysb(y);
        }
        if (st.generator_kind == "nexmark") {
          io::nexmark_options n;
          n.rate = st.generator.rate;
          n.count = st.generator.count;
          n.seed = st.generator.seed;
          return ctx_.nexmark(n);
        }
        return ctx_.access_log(st.generator);
      case stage_kind::batches: return ctx_.batches(st.path, st.total);
      case stage_kind::stream_ref: return stream(st.stream);
      // per batch
      case stage_kind::map: return in->map(st.fn, policy(st), "map");
      case stage_kind::flat_map: return in->flat_map(array_function(st.fn, "flat_map()"), policy(st), "flat_map");
      case stage_kind::filter: return in->filter(bool_function(st.fn, "filter()"), policy(st), "filter");
      case stage_kind::count: return in->count();
      case stage_kind::reduce_by_key: return in->reduce_by_key(st.reduce);
      case stage_kind::top:
        if (st.has_fn) return in->top(st.n, st.fn);
        return in->top(st.n, [](const value& v) { return v; });
      case stage_kind::map_values: return in->map_values(st.fn);
      case stage_kind::flat_map_values: return in->flat_map_values(array_function(st.fn, "flat_map_values()"));
      case stage_kind::glom: return in->glom();
      case stage_kind::distinct: return in->distinct();
      case stage_kind::sample: return in->sample(st.fraction, st.seed);
      case stage_kind::union_streams: {
        std::vector<dstream> others;
        for (auto& o : st.others) others.push_back(stream(o.name));
        return in->union_with(others);
      }
      case stage_kind::count_by_value: return in->count_by_value();
      case stage_kind::reduce: return in->reduce(st.reduce);
      case stage_kind::group_by_key: return in->group_by_key();
      case stage_kind::combine_by_key: return in->combine_by_key(st.fn, st.merge_value, st.merge_combiners);
      case stage_kind::sort_by: return in->sort_by(st.fn, st.ascending);
      // windows
      case stage_kind::window: check_window(st, *in); return in->window(st.window, st.slide);
      case stage_kind::count_by_window: check_window(st, *in); return in->count_by_window(st.window, st.slide);
      case stage_kind::reduce_by_window:
        check_window(st, *in);
        return in->reduce_by_window(st.reduce, st.window, st.slide, st.inverse);
      case stage_kind::reduce_by_key_and_window:
        check_window(st, *in);
        return in->reduce_by_key_and_window(
            st.reduce, st.window, st.slide, st.inverse,
            st.has_filter ? bool_function(st.filter, "reduce_by_key_and_window(filter = ...)") : filter_fn{});
      case stage_kind::group_by_key_and_window:
        check_window(st, *in);
        return in->group_by_key_and_window(st.window, st.slide);
      case stage_kind::count_by_value_and_window:
        check_window(st, *in);
        return in->count_by_value_and_window(st.window, st.slide);
      // state
      case stage_kind::update_state_by_key: return in->update_state_by_key(st.update);
      case stage_kind::map_with_state: {
        map_with_state_options o;
        o.timeout = st.timeout;
        if (!st.initial_path.empty())
          o.initial = load_pairs(st.initial_path, st.initial_loc, "map_with_state initial state");
        return in->map_with_state(st.state_fn, std::move(o));
      }
      case stage_kind::state_snapshots: return in->state_snapshots();
      // two streams
      case stage_kind::join:
      case stage_kind::left_outer_join:
      case stage_kind::right_outer_join:
      case stage_kind::full_outer_join:
        if (st.is_table)
          return in->join_table(load_pairs(st.path, st.path_loc, "table"), kind_of(st.kind));
        return in->join(stream(st.others.at(0).name), kind_of(st.kind));
      case stage_kind::cogroup: return in->cogroup(stream(st.others.at(0).name));
      // sinks
      case stage_kind::print: in->print(st.n); return in;
      case stage_kind::write_jsonl: in->write_jsonl(st.path); return in;
      case stage_kind::collect: in->collect(st.path); return in;
      // event time
      case stage_kind::aggregate: return aggregate(st, *in);
      // decoders and file/console sinks
      case stage_kind::parse_log: return in->parse_log(st.log_format, policy(st));
      case stage_kind::parse_csv: return in->parse_csv(st.csv, policy(st));
      case stage_kind::parse_json: return in->parse_json(st.json, policy(st));
      case stage_kind::parse_regex: return in->parse_regex(st.pattern, policy(st));
      case stage_kind::write_text: in->write_text(st.path, st.prefix, st.suffix); return in;
      case stage_kind::write_csv: in->write_csv(st.path); return in;
      case stage_kind::stdout_sink: in->to_stdout(st.out_format); return in;
      // receivers
      case stage_kind::dir: return ctx_.text_file_stream(st.path, st.dir);
      case stage_kind::socket: return ctx_.socket_text_stream(st.path, st.socket);
      case stage_kind::listen: return ctx_.listen_text_stream(st.path, st.listen);
      case stage_kind::custom_receiver: return ctx_.receiver_stream(st.path, st.receiver_args);
      case stage_kind::kafka: return ctx_.kafka_stream(st.kafka);
      case stage_kind::kafka_out: {
        io::kafka_sink_options o = st.kafka_sink;
        if (st.has_key) o.key = [fn = st.key](const value& v) { return fn(v); };
        in->kafka_out(std::move(o));
        return in;
      }
    }
    return in;
  }

  /// The stage's on_error policy; one dead-letter file per path for the whole script.
  error_policy policy(const stage_spec& st) {
    error_policy p;
    p.action = st.on_error.action;
    if (p.action != on_error::dead_letter) return p;
    auto& file = dead_letters_[st.on_error.dead_letter_path];
    if (!file) file = std::make_shared<io::dead_letter_file>(st.on_error.dead_letter_path);
    return io::dead_letter_policy(file);
  }

  const pipeline_spec& spec_;
  streaming_context& ctx_;
  std::map<std::string, dstream> built_;
  std::map<std::string, time_info> stream_time_;
  time_info time_;
  std::map<std::string, std::shared_ptr<io::dead_letter_file>> dead_letters_;
};

}  // namespace

void build_pipelines(const pipeline_spec& spec, streaming_context& ctx) { builder(spec, ctx).run(); }

}  // namespace weir::dsl
