#include "weir/io/json.hpp"

#include <fstream>

#include <simdjson.h>

namespace weir::io {

namespace {

value convert(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::ARRAY: {
      simdjson::dom::array arr;
      if (e.get(arr)) return value();
      std::vector<value> items;
      items.reserve(arr.size());
      for (simdjson::dom::element x : arr) items.push_back(convert(x));
      return value::array(std::move(items));
    }
    case element_type::OBJECT: {
      simdjson::dom::object obj;
      if (e.get(obj)) return value();
      std::vector<field> fields;
      for (simdjson::dom::key_value_pair kv : obj) fields.push_back({value(kv.key), convert(kv.value)});
      return value::object(std::move(fields));
    }
    case element_type::INT64: {
      std::int64_t i = 0;
      if (e.get(i)) return value();
      return value(i);
    }
    case element_type::UINT64: {
      std::uint64_t u = 0;
      if (e.get(u)) return value();
      return value(static_cast<double>(u));
    }
    case element_type::DOUBLE: {
      double d = 0;
      if (e.get(d)) return value();
      return value(d);
    }
    case element_type::STRING: {
      std::string_view sv;
      if (e.get(sv)) return value();
      return value(sv);
    }
    case element_type::BOOL: {
      bool b = false;
      if (e.get(b)) return value();
      return value(b);
    }
    case element_type::NULL_VALUE: return value();
  }
  return value();
}

}  // namespace

value parse_json(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc)) throw record_error(simdjson::error_message(err));
  return convert(doc);
}

records read_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw pipeline_error("\"" + path + "\": cannot open");
  records out;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    try {
      out.push_back(parse_json(line));
    } catch (const record_error& e) {
      throw pipeline_error(path + ":" + std::to_string(n) + ": malformed JSON: " + e.what());
    }
  }
  if (in.bad()) throw pipeline_error("\"" + path + "\": cannot read");
  return out;
}

}  // namespace weir::io
