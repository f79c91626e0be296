// weir — the DSL's PostgreSQL sink (postgres.hpp): parameters, the checks that
// report an empty URL, a bad table name or key at the argument, and the
// dstream call it builds.
#include "weir/cli/stages/postgres.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace weir::dsl {

namespace {

using P = param_type;
using bound = std::shared_ptr<const bound_stage>;
using input = std::optional<dstream>;

/// A table name: "t" or "schema.t", each part non-empty.
bool valid_table(const std::string& t) {
  auto dot = t.find('.');
  if (dot == std::string::npos) return !t.empty();
  return dot > 0 && dot + 1 < t.size() && t.find('.', dot + 1) == std::string::npos;
}

bound bind_write_postgres(const stage_args& a) {
  auto s = std::make_shared<postgres_stage>();
  auto& o = s->options;
  if (a.get("url", o.url) && o.url.empty()) throw dsl_error(a.loc("url"), "the connection URL must not be empty");
  if (a.get("table", o.table) && !valid_table(o.table))
    throw dsl_error(a.loc("table"),
                    fmt::format("expected a table name like \"t\" or \"schema.t\", got \"{}\"", o.table));
  value key;
  if (a.get("key", key)) {
    auto one = [&](const value& k) {
      if (!k.is_string() || k.as_string().empty())
        throw dsl_error(a.loc("key"), fmt::format("key must be a column name or an array of column names like "
                                                  "[\"k\"], got {}",
                                                  k.to_json()));
      std::string name(k.as_string());
      if (std::find(o.key.begin(), o.key.end(), name) != o.key.end())
        throw dsl_error(a.loc("key"), fmt::format("key column \"{}\" is named twice", name));
      o.key.push_back(std::move(name));
    };
    if (key.is_array()) {
      for (auto& k : key.as_array()) one(k);
      if (o.key.empty()) throw dsl_error(a.loc("key"), "key must name at least one column (or be left out to append)");
    } else {
      one(key);
    }
  }
  a.get("create", o.create);
  if (a.get("id", o.sink_id) && o.sink_id.empty()) throw dsl_error(a.loc("id"), "the sink id must not be empty");
  a.get("timeout", o.timeout);
  return s;
}

}  // namespace

std::span<const stage_def> postgres_stages() {
  static const std::vector<stage_def> stages = {
      {"write_postgres", stage_role::sink,
       {{"url", P::string, true, "the connection URL"},
        {"table", P::string, false, "the table"},
        {"key", P::constant},
        {"create", P::boolean},
        {"on_error", P::on_error},
        {"id", P::string, false, "the sink id"},
        {"timeout", P::duration}},
       "write_postgres(\"postgresql://user@host/db\", table = \"t\", key = [\"k\"], create = true, "
       "on_error = fail, id = \"t\", timeout = 30s)",
       bind_write_postgres,
       [](stage_builder& b, const stage_spec& st, const input& in) {
         io::postgres_sink_options o = st.as<postgres_stage>().options;
         o.on_error = b.policy(st.on_error);
         in->write_postgres(std::move(o));
         return *in;
       }},
  };
  return stages;
}

}  // namespace weir::dsl
