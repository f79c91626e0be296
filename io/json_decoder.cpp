// parse_json: simdjson On-Demand documents → values (see decoders.hpp).
#include <algorithm>
#include <cstring>

#include <simdjson.h>

#include "weir/io/decoders.hpp"
#include "weir/io/detail/decoder_base.hpp"

namespace weir::io {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

// On-Demand tracks no depth limit of its own (its DOM parser stops at
// simdjson::DEFAULT_MAX_DEPTH): the walks below count the depth themselves,
// so a document nested deeper is a bad record (DEPTH_ERROR), never a stack
// overflow.
static_assert(max_json_depth == simdjson::DEFAULT_MAX_DEPTH);

error_code convert(od::value v, value& out, std::size_t depth);

error_code convert_number(od::number n, value& out) {
  switch (n.get_number_type()) {
    case od::number_type::signed_integer: out = value(n.get_int64()); break;
    case od::number_type::unsigned_integer: out = value(static_cast<double>(n.get_uint64())); break;
    case od::number_type::floating_point_number: out = value(n.get_double()); break;
  }
  return simdjson::SUCCESS;
}

template <class V>
error_code convert_scalar(V& v, od::json_type t, value& out) {
  switch (t) {
    case od::json_type::number: {
      od::number n;
      if (auto e = v.get_number().get(n)) return e;
      return convert_number(n, out);
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return e;
      out = value(s);
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool b = false;
      if (auto e = v.get_bool().get(b)) return e;
      out = value(b);
      return simdjson::SUCCESS;
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return e;
      if (!is_null) return simdjson::N_ATOM_ERROR;
      out = value();
      return simdjson::SUCCESS;
    }
    default: return simdjson::INCORRECT_TYPE;
  }
}

error_code convert_array(od::array a, value& out, std::size_t depth) {
  std::vector<value> items;
  for (auto item : a) {
    od::value x;
    if (auto e = std::move(item).get(x)) return e;
    value y;
    if (auto e = convert(x, y, depth + 1)) return e;
    items.push_back(std::move(y));
  }
  out = value::array(std::move(items));
  return simdjson::SUCCESS;
}

error_code convert_object(od::object o, value& out, std::size_t depth) {
  std::vector<field> fields;
  for (auto f : o) {
    od::field fl;
    if (auto e = std::move(f).get(fl)) return e;
    std::string_view key;
    if (auto e = fl.unescaped_key().get(key)) return e;
    value k(key);
    value y;
    if (auto e = convert(fl.value(), y, depth + 1)) return e;
    fields.push_back({std::move(k), std::move(y)});
  }
  out = value::object(std::move(fields));
  return simdjson::SUCCESS;
}

/// `v` (a value or the document) → out; `depth` = arrays and objects around it.
template <class V>
error_code convert_any(V& v, value& out, std::size_t depth) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  // checked before the array or object is entered: the error's location is its bracket
  if ((t == od::json_type::array || t == od::json_type::object) && depth >= max_json_depth)
    return simdjson::DEPTH_ERROR;
  if (t == od::json_type::array) {
    od::array a;
    if (auto e = v.get_array().get(a)) return e;
    return convert_array(a, out, depth);
  }
  if (t == od::json_type::object) {
    od::object o;
    if (auto e = v.get_object().get(o)) return e;
    return convert_object(o, out, depth);
  }
  return convert_scalar(v, t, out);
}

error_code convert(od::value v, value& out, std::size_t depth) { return convert_any(v, out, depth); }

error_code convert_document(od::document& doc, value& out) { return convert_any(doc, out, 0); }

/// Reads every part of `v` as convert_any does (every scalar parsed, every
/// string and key unescaped, the same depth limit) without building values:
/// what parse_json(fields = ...) checks of the parts it does not extract.
template <class V>
error_code check_any(V& v, std::size_t depth) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  if ((t == od::json_type::array || t == od::json_type::object) && depth >= max_json_depth)
    return simdjson::DEPTH_ERROR;
  switch (t) {
    case od::json_type::array: {
      od::array a;
      if (auto e = v.get_array().get(a)) return e;
      for (auto item : a) {
        od::value x;
        if (auto e = std::move(item).get(x)) return e;
        if (auto e = check_any(x, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::object: {
      od::object o;
      if (auto e = v.get_object().get(o)) return e;
      for (auto f : o) {
        od::field fl;
        if (auto e = std::move(f).get(fl)) return e;
        std::string_view key;
        if (auto e = fl.unescaped_key().get(key)) return e;
        od::value x = fl.value();
        if (auto e = check_any(x, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      od::number n;
      return v.get_number().get(n);
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::boolean: {
      bool b = false;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return e;
      return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

/// A reusable padded copy of each record and an On-Demand parser.
class json_reader {
public:
  /// Parses `text`; the document stays valid until the next call.
  error_code iterate(std::string_view text, od::document& doc) {
    // the padding must be allocated, its content does not matter (simdjson
    // reads past the end only within blocks it masks or pads itself)
    if (buf_.size() < text.size() + simdjson::SIMDJSON_PADDING) buf_.resize(text.size() + simdjson::SIMDJSON_PADDING);
    if (!text.empty()) std::memcpy(buf_.data(), text.data(), text.size());
    return parser_.iterate(buf_.data(), text.size(), buf_.size()).get(doc);
  }

  /// "byte offset N: <reason>". N is the document's current location when
  /// the iteration started (simdjson 3.0 cannot say where after a failed
  /// iterate()), else found by scan_structure for errors of the document's
  /// shape (unclosed string, object or array; content after the document).
  std::string reason(od::document& doc, error_code e, std::size_t len, bool iterated) {
    if (e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT || e == simdjson::UNCLOSED_STRING ||
        e == simdjson::TAPE_ERROR || e == simdjson::TRAILING_CONTENT || !iterated) {
      if (auto r = scan_structure(std::string_view(buf_.data(), len)); !r.empty()) return r;
    }
    std::string r;
    const char* loc = nullptr;
    if (iterated && !doc.current_location().get(loc) && loc >= buf_.data() && loc <= buf_.data() + len)
      r = "byte offset " + std::to_string(loc - buf_.data()) + ": ";
    if (e == simdjson::DEPTH_ERROR)
      r += "arrays and objects nested deeper than " + std::to_string(max_json_depth);
    else
      r += simdjson::error_message(e);
    return r;
  }

  /// Finds an unclosed string, object or array, or content after the root
  /// value, by matching brackets outside strings. "" if the shape is fine.
  static std::string scan_structure(std::string_view t) {
    std::size_t depth = 0, i = 0, root_end = std::string_view::npos;
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (i < t.size() && ws(t[i])) ++i;
    if (i == t.size()) return "byte offset " + std::to_string(t.size()) + ": empty document (no JSON value)";
    bool scalar_root = t[i] != '{' && t[i] != '[';
    for (; i < t.size(); ++i) {
      const char c = t[i];
      if (c == '"') {
        std::size_t open = i++;
        while (i < t.size() && t[i] != '"') i += t[i] == '\\' ? 2 : 1;
        if (i >= t.size()) return "byte offset " + std::to_string(open) + ": unclosed string";
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return "byte offset " + std::to_string(i) + ": unexpected '" + std::string(1, c) + "'";
        if (--depth == 0) {
          root_end = i + 1;
          break;
        }
      } else if (scalar_root && ws(c)) {
        root_end = i;
        break;
      }
    }
    if (!scalar_root && depth > 0)
      return "byte offset " + std::to_string(t.size()) + ": the document ends inside an object or array";
    if (root_end != std::string_view::npos) {
      std::size_t j = root_end;
      while (j < t.size() && ws(t[j])) ++j;
      if (j < t.size()) return "byte offset " + std::to_string(j) + ": content after the end of the JSON document";
    }
    return "";
  }

private:
  od::parser parser_;
  std::string buf_;
};

/// After a complete read of `doc`: a location inside the text means content
/// after the document (simdjson 3.0 has no document::at_end()).
bool at_end(json_reader& rd, od::document& doc, std::size_t len, std::string& reason) {
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) {
    reason = rd.reason(doc, simdjson::TRAILING_CONTENT, len, true);
    return false;
  }
  return true;
}

bool parse_whole(json_reader& rd, std::string_view text, value& out, std::string& reason) {
  od::document doc;
  if (auto e = rd.iterate(text, doc)) {
    reason = rd.reason(doc, e, text.size(), false);
    return false;
  }
  if (auto e = convert_document(doc, out)) {
    reason = rd.reason(doc, e, text.size(), true);
    return false;
  }
  return at_end(rd, doc, text.size(), reason);
}

class json_decoder final : public detail::decoder_base {
public:
  json_decoder(json_options o, error_policy p) : decoder_base(std::move(p)), o_(std::move(o)) {
    // Fast path: every path is one top-level name ("/name", no escapes) —
    // read the root object once instead of one at_pointer walk per path.
    top_level_ = !o_.fields.empty();
    for (auto& f : o_.fields) {
      const auto& ptr = f.pointer;
      if (ptr.size() < 2 || ptr[0] != '/' || ptr.find_first_of("/~\\\"", 1) != std::string::npos) top_level_ = false;
      keys_.push_back(ptr.size() > 1 ? ptr.substr(1) : std::string());
      depths_.push_back(static_cast<std::size_t>(std::count(ptr.begin(), ptr.end(), '/')));
      names_.emplace_back(f.name);
    }
  }

  void decode(records& in, records& out) override {
    out.reserve(out.size() + in.size());
    value v;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const value& r = in[i];
      if (!r.is_string()) {
        bad(r.to_json(), not_a_string(r), provenance(i));
        continue;
      }
      const bool ok = o_.fields.empty() ? parse_whole(rd_, r.as_string(), v, reason_) : extract(r.as_string(), v);
      if (ok) out.push_back(std::move(v));
      else bad(r.as_string(), reason_, provenance(i));
    }
    consumed(in.size());
  }

  bool stateless() const override { return true; }

private:
  bool extract(std::string_view text, value& out) {
    od::document doc;
    if (auto e = rd_.iterate(text, doc)) {
      reason_ = rd_.reason(doc, e, text.size(), false);
      return false;
    }
    return extract_fields(doc, text, out) && (!o_.validate || check_whole(doc, text));
  }

  /// validate: the whole document read again (every scalar, the depth
  /// limit, nothing after it), as parse_whole reads it.
  bool check_whole(od::document& doc, std::string_view text) {
    doc.rewind();
    if (auto e = check_any(doc, 0)) {
      reason_ = rd_.reason(doc, e, text.size(), true);
      return false;
    }
    return at_end(rd_, doc, text.size(), reason_);
  }

  bool extract_fields(od::document& doc, std::string_view text, value& out) {
    od::json_type root{};
    if (top_level_ && keys_.size() <= 64 && doc.type().get(root) == simdjson::SUCCESS && root == od::json_type::object)
      return extract_top_level(doc, text, out);
    std::vector<field> fields;
    fields.reserve(o_.fields.size());
    for (std::size_t k = 0; k < o_.fields.size(); ++k) {
      const json_path& p = o_.fields[k];
      value y;
      od::value x;
      error_code e = doc.at_pointer(p.pointer).get(x);
      if (e == simdjson::SUCCESS) e = convert(x, y, depths_[k]);
      // missing path → null: no such key or index, or the path goes into a
      // value of another kind (simdjson says INVALID_JSON_POINTER for a
      // scalar; the pointers json_path::parse builds are well-formed)
      if (e == simdjson::NO_SUCH_FIELD || e == simdjson::INDEX_OUT_OF_BOUNDS || e == simdjson::INCORRECT_TYPE ||
          e == simdjson::INVALID_JSON_POINTER) {
        y = value();
      } else if (e) {
        reason_ = rd_.reason(doc, e, text.size(), true) + " (reading " + p.text + ")";
        return false;
      }
      fields.push_back({value(p.name), std::move(y)});
    }
    out = value::object(std::move(fields));
    return true;
  }

  /// One pass over the root object's fields; the first occurrence of each
  /// wanted name wins, keys compared unescaped as at_pointer does (so the
  /// names hold no quote or backslash); stops once every name is found.
  bool extract_top_level(od::document& doc, std::string_view text, value& out) {
    const std::size_t n = keys_.size();
    std::vector<field>& fields = fields_;  // reused: object_moved leaves it moved-from
    fields.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
      fields[k].name = names_[k];
      fields[k].val = value();
    }
    std::uint64_t found = 0;
    std::size_t left = n;
    od::object obj;
    error_code e = doc.get_object().get(obj);
    if (!e) {
      for (auto f : obj) {
        od::field fl;
        if ((e = std::move(f).get(fl))) break;
        const od::raw_json_string key = fl.key();
        // the first byte first (a quote for an empty key, so always readable):
        // most keys differ there, without a call to memcmp
        const char first = *reinterpret_cast<const char*>(key.raw());
        std::size_t k = 0;
        while (k < n && (((found >> k) & 1) || keys_[k][0] != first || !key.unsafe_is_equal(keys_[k]))) ++k;
        if (k == n) continue;  // not wanted (or a later duplicate): skipped unread
        if ((e = convert(fl.value(), fields[k].val, 1))) break;
        found |= std::uint64_t{1} << k;
        if (--left == 0) break;
      }
    }
    if (e) {
      reason_ = rd_.reason(doc, e, text.size(), true);
      return false;
    }
    out = value::object_moved(fields);
    return true;
  }

  json_options o_;
  std::vector<field> fields_;
  json_reader rd_;
  std::string reason_;
  bool top_level_ = false;
  std::vector<std::string> keys_;
  std::vector<std::size_t> depths_;  // arrays and objects around each path's value
  std::vector<value> names_;
};

}  // namespace

json_path json_path::parse(std::string_view text) {
  json_path p;
  p.text = std::string(text);
  auto fail = [&](std::size_t at, const std::string& what) -> json_path {
    throw pipeline_error("parse_json: bad path '" + std::string(text) + "' at character " +
                         std::to_string(at + 1) + ": " + what);
  };
  auto add_token = [&](std::string_view tok) {
    p.pointer.push_back('/');
    for (char c : tok) {
      if (c == '~') p.pointer += "~0";
      else if (c == '/') p.pointer += "~1";
      else p.pointer.push_back(c);
    }
  };
  std::size_t i = 0;
  if (text.empty()) return fail(0, "empty path (write .field, .a.b[0] or [2])");
  if (text == ".") return fail(0, "'.' is the whole document; leave fields out to get it");
  while (i < text.size()) {
    if (text[i] == '.') {
      ++i;
      if (i < text.size() && text[i] == '[') continue;  // .["key"]
      std::size_t b = i;
      while (i < text.size() && text[i] != '.' && text[i] != '[') ++i;
      if (i == b) return fail(b, "expected a field name after '.'");
      add_token(text.substr(b, i - b));
    } else if (text[i] == '[') {
      ++i;
      if (i < text.size() && text[i] == '"') {
        std::size_t b = ++i;
        while (i < text.size() && text[i] != '"') ++i;
        if (i >= text.size()) return fail(b - 1, "unterminated \"key\"");
        add_token(text.substr(b, i - b));
        ++i;
      } else {
        std::size_t b = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        if (i == b) return fail(b, "expected an array index or a \"key\" after '['");
        add_token(text.substr(b, i - b));
      }
      if (i >= text.size() || text[i] != ']') return fail(i, "expected ']'");
      ++i;
    } else {
      return fail(i, std::string("expected '.' or '[', found '") + text[i] + "'");
    }
  }
  p.name = text.front() == '.' ? std::string(text.substr(1)) : std::string(text);
  return p;
}

bool parse_json_document(std::string_view text, value& out, std::string& reason) {
  thread_local json_reader rd;
  return parse_whole(rd, text, out, reason);
}

operator_ptr make_json_decoder(json_options o, error_policy policy) {
  return std::make_unique<json_decoder>(std::move(o), std::move(policy));
}

}  // namespace weir::io
