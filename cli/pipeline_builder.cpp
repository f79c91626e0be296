#include "weir/cli/pipeline_builder.hpp"

#include <map>
#include <optional>

#include <fmt/format.h>

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

  void check_multiple(std::chrono::milliseconds d, const source_location& loc, std::string_view what) {
    auto b = ctx_.options().batch_interval;
    if (b.count() > 0 && d.count() % b.count() != 0)
      throw dsl_error(loc, fmt::format("{} {} is not a multiple of the batch interval {}", what,
                                       format_duration(d), format_duration(b)));
  }

  std::optional<dstream> stage(const stage_spec& st, std::optional<dstream>& in) {
    switch (st.kind) {
      case stage_kind::file: return ctx_.text_file(st.path);
      case stage_kind::stdin_lines: return ctx_.stdin_lines();
      case stage_kind::generate: return ctx_.access_log(st.generator);
      case stage_kind::stream_ref: return stream(st.stream);
      case stage_kind::map: return in->map(st.fn, "map");
      case stage_kind::flat_map: {
        element_function fn = st.fn;
        return in->flat_map(
            [fn](const value& v, records& out) {
              value r = fn(v);
              if (r.is_null()) return;
              if (!r.is_array())
                fail_at(fn, fmt::format("flat_map() expects an array, got {}", kind_name(r.type())));
              for (auto& x : r.as_array()) out.push_back(x);
            },
            "flat_map");
      }
      case stage_kind::filter: {
        element_function fn = st.fn;
        return in->filter(
            [fn](const value& v) {
              value r = fn(v);
              if (!r.is_bool())
                fail_at(fn, fmt::format("filter() expects a bool, got {}", kind_name(r.type())));
              return r.as_bool();
            },
            "filter");
      }
      case stage_kind::count: return in->count();
      case stage_kind::reduce_by_key: return in->reduce_by_key(st.reduce);
      case stage_kind::reduce_by_key_and_window:
        check_multiple(st.window, st.window_loc, "window");
        if (st.slide.count() > 0) check_multiple(st.slide, st.slide_loc, "slide");
        return in->reduce_by_key_and_window(st.reduce, st.window, st.slide);
      case stage_kind::top:
        if (st.has_fn) return in->top(st.n, st.fn);
        return in->top(st.n, [](const value& v) { return v; });
      case stage_kind::print: in->print(st.n); return in;
      case stage_kind::write_jsonl: in->write_jsonl(st.path); return in;
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
