// weir — the builder: adds a compiled script's pipelines to a
// streaming_context through the public API. It owns what is common to every
// stage — building `let` streams once, tracking each stream's event time
// (docs/architecture.md §5), the dead-letter files of `on_error`, and
// locating the API's errors at the stage — and calls each stage's registry
// entry (stage_registry.hpp) to build the stage itself.
#include "weir/cli/pipeline_builder.hpp"

#include <map>
#include <optional>

#include "weir/cli/stage_registry.hpp"
#include "weir/io/dead_letter.hpp"

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

class builder final : public stage_builder {
public:
  builder(const pipeline_spec& spec, streaming_context& ctx) : spec_(spec), ctx_(ctx) {}

  void run() {
    for (auto& p : spec_.pipelines) build(p);
  }

  streaming_context& context() override { return ctx_; }

  dstream stream(const std::string& name) override {
    if (auto it = built_.find(name); it != built_.end()) return it->second;
    for (auto& def : spec_.streams)
      if (def.name == name) {
        stream_time saved = time_;
        dstream ds = *build(def);
        time_ = saved;
        built_.emplace(name, ds);
        return ds;
      }
    throw pipeline_error("internal error: unknown stream '" + name + "'");
  }

  error_policy policy(const on_error_spec& o) override {
    error_policy p;
    p.action = o.action;
    if (p.action != on_error::dead_letter) return p;
    auto& file = dead_letters_[o.dead_letter_path];
    if (!file) file = std::make_shared<io::dead_letter_file>(o.dead_letter_path);
    return io::dead_letter_policy(file);
  }

  const stream_time& input_time() const override { return time_; }

  stream_time time_of(const std::string& name) const override {
    auto it = stream_time_.find(name);
    return it == stream_time_.end() ? stream_time{} : it->second;
  }

  void set_output_time(stream_time t) override { time_ = std::move(t); }

private:
  std::optional<dstream> build(const pipeline_def& def) {
    std::optional<dstream> ds;
    time_ = stream_time{};
    for (auto& st : def.stages) {
      try {
        ds = st.def->build(*this, st, ds);
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
    if (st.def == &stream_ref_def()) {
      time_ = stream_time_[st.name];
      return ds;
    }
    if (st.def->traits.event_time == event_time_effect::sets_itself) return ds;
    if (st.def->traits.event_time == event_time_effect::ends) {
      time_ = stream_time{};
      time_.lost_by = st.name;
      return ds;
    }
    if (st.event_time.set) {
      watermark_options o = watermark_of(st.event_time);
      o.on_error = policy(st.on_error);  // a decoder's on_error also covers its time field
      ds = ds.with_watermark(std::move(o));
      time_ = stream_time{};
      time_.time = st.event_time.time;
      time_.loc = st.event_time.loc;
      time_.form = st.event_time.form;
      return ds;
    }
    if (st.def->traits.event_time != event_time_effect::keeps && (time_.time || time_.watermarked)) {
      if (time_.time) time_.lost_by = st.name;
      time_.time.reset();
      time_.watermarked = false;
      time_.lost_why.clear();
    }
    return ds;
  }

  const pipeline_spec& spec_;
  streaming_context& ctx_;
  std::map<std::string, dstream> built_;
  std::map<std::string, stream_time> stream_time_;
  stream_time time_;
  std::map<std::string, std::shared_ptr<io::dead_letter_file>> dead_letters_;
};

}  // namespace

void build_pipelines(const pipeline_spec& spec, streaming_context& ctx) { builder(spec, ctx).run(); }

}  // namespace weir::dsl
