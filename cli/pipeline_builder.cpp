#include "weir/cli/pipeline_builder.hpp"

#include <map>
#include <optional>

#include <fmt/format.h>

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
  return o;
}

namespace {

[[noreturn]] void fail_at(const element_function& fn, const std::string& msg) {
  throw record_error(fn.where().str() + ": " + msg);
}

class builder {
public:
  builder(const pipeline_spec& spec, streaming_context& ctx) : spec_(spec), ctx_(ctx) {}

  void run() {
    for (auto& p : spec_.pipelines) build(p);
  }

private:
  std::optional<dstream> build(const pipeline_def& def) {
    std::optional<dstream> ds;
    for (auto& st : def.stages) {
      try {
        ds = stage(st, ds);
      } catch (const pipeline_error& e) {
        throw dsl_error(st.loc, e.what());
      }
    }
    return ds;
  }

  dstream stream(const std::string& name) {
    if (auto it = built_.find(name); it != built_.end()) return it->second;
    for (auto& def : spec_.streams)
      if (def.name == name) {
        dstream ds = *build(def);
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
      case stage_kind::generate: return ctx_.access_log(st.generator);
      case stage_kind::batches: return ctx_.batches(st.path, st.total);
      case stage_kind::stream_ref: return stream(st.stream);
      // per batch
      case stage_kind::map: return in->map(st.fn, "map");
      case stage_kind::flat_map: return in->flat_map(array_function(st.fn, "flat_map()"), "flat_map");
      case stage_kind::filter: return in->filter(bool_function(st.fn, "filter()"), "filter");
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

  const pipeline_spec& spec_;
  streaming_context& ctx_;
  std::map<std::string, dstream> built_;
};

}  // namespace

void build_pipelines(const pipeline_spec& spec, streaming_context& ctx) { builder(spec, ctx).run(); }

}  // namespace weir::dsl
