// parse_csv: RFC 4180 records from lines, quoted fields spanning lines
// (see decoders.hpp). An incremental state machine: each line continues the
// record left open by the previous one, so a record is scanned once.
#include <cstdio>
#include <utility>

#include "weir/io/decoders.hpp"
#include "weir/io/detail/decoder_base.hpp"

namespace weir::io {
namespace {

std::string shown(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
  return std::string("byte ") + buf;
}

/// The RFC 4180 state machine over the lines of one record.
class csv_scanner {
public:
  explicit csv_scanner(const csv_options& o) : o_(o) {}

  enum class result { complete, open, error };

  /// Feeds the next line of the record (without its terminator). `complete`:
  /// fields() holds the record; `open`: a quoted field continues on the next
  /// line; `error`: reason() says why (the record is abandoned).
  result feed(std::string_view line) {
    ++line_;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      switch (st_) {
        case state::field_start:
          if (c == o_.quote) {
            st_ = state::quoted;
            qline_ = line_;
            qcol_ = i + 1;
          } else if (c == o_.sep) {
            fields_.emplace_back();
          } else {
            field_.push_back(c);
            st_ = state::unquoted;
          }
          break;
        case state::unquoted:
          if (c == o_.sep) {
            end_field();
          } else if (c == o_.quote) {
            return fail(i, std::string("unexpected ") + shown(c) +
                               " inside an unquoted field (a field with quotes must be quoted as a whole)");
          } else {
            field_.push_back(c);
          }
          break;
        case state::quoted:
          if (c == o_.quote) st_ = state::quote_seen;
          else field_.push_back(c);
          break;
        case state::quote_seen:
          if (c == o_.quote) {
            field_.push_back(c);
            st_ = state::quoted;
          } else if (c == o_.sep) {
            end_field();
          } else {
            return fail(i, std::string("expected ") + shown(o_.sep) + " or end of record after a closing " +
                               shown(o_.quote) + ", found " + shown(c));
          }
          break;
      }
    }
    if (st_ == state::quoted) {
      field_.push_back('\n');
      return result::open;
    }
    end_field();
    return result::complete;
  }

  /// The quote left open: "unterminated quoted field (opened at line L, column C)".
  std::string unterminated() const {
    return "unterminated quoted field (opened at line " + std::to_string(qline_) + ", column " +
           std::to_string(qcol_) + " of the record)";
  }

  bool in_record() const noexcept { return line_ > 0; }
  std::size_t lines() const noexcept { return line_; }
  std::vector<std::string>& fields() noexcept { return fields_; }
  const std::string& reason() const noexcept { return reason_; }

  /// Checkpoints: the state machine in the middle of a record.
  void save(state_writer& w) const {
    w.u8(static_cast<std::uint8_t>(st_));
    w.varint(fields_.size());
    for (auto& f : fields_) w.str(f);
    w.str(field_);
    w.u64(line_);
    w.u64(qline_);
    w.u64(qcol_);
  }
  void load(state_reader& r) {
    const std::uint8_t st = r.u8();
    if (st > static_cast<std::uint8_t>(state::quote_seen)) r.fail("bad CSV scanner state " + std::to_string(st));
    st_ = static_cast<state>(st);
    fields_.clear();
    for (std::uint64_t i = 0, n = r.varint(); i < n; ++i) fields_.push_back(r.str());
    field_ = r.str();
    line_ = static_cast<std::size_t>(r.u64());
    qline_ = static_cast<std::size_t>(r.u64());
    qcol_ = static_cast<std::size_t>(r.u64());
  }

  void reset() {
    st_ = state::field_start;
    fields_.clear();
    field_.clear();
    line_ = 0;
  }

private:
  enum class state { field_start, unquoted, quoted, quote_seen };

  void end_field() {
    fields_.push_back(std::move(field_));
    field_.clear();
    st_ = state::field_start;
  }

  result fail(std::size_t i, std::string what) {
    reason_ = "line " + std::to_string(line_) + ", column " + std::to_string(i + 1) + ": " + what;
    return result::error;
  }

  const csv_options& o_;
  state st_ = state::field_start;
  std::vector<std::string> fields_;
  std::string field_;
  std::string reason_;
  std::size_t line_ = 0;  // lines fed into the current record
  std::size_t qline_ = 0, qcol_ = 0;
};

/// A failed record that spanned lines costs only its first line: the lines
/// after it are read again as records of their own. That is linear: a line
/// that continued an open quoted field (scanned in the `quoted` state)
/// cannot also leave a quote open when scanned from the start of a record
/// (the scanner's states show no line does both), so every line read again
/// but the last completes or fails on its own.
class csv_decoder final : public detail::decoder_base {
public:
  csv_decoder(csv_options o, error_policy p) : decoder_base(std::move(p)), o_(o), scan_(o_) {}

  void decode(records& in, records& out) override {
    for (std::size_t i = 0; i < in.size(); ++i) {
      const value& r = in[i];
      if (!r.is_string()) {
        // a non-string ends any open record too
        if (scan_.in_record()) fail_open(scan_.unterminated() + " before a non-string record", out);
        bad(r.to_json(), not_a_string(r), provenance(i));
        continue;
      }
      feed(r.as_string(), i, {}, out);
    }
    // a record still open continues in the next call: its lines' provenance
    // is fixed now, while the indexes still mean something
    for (auto& l : open_)
      if (l.index != npos) {
        l.prov = provenance(l.index);
        l.index = npos;
      }
    consumed(in.size());
  }

  // A record open when the input ends fails, and its lines after the first
  // are read again: in one more logical batch, so that what they decode
  // reaches the operators after this one within a batch (a per-batch count
  // ignores records after its last batch). drain_horizon is called only once
  // the input has ended (stream_operator.hpp); on_end_of_stream is the
  // fallback of a run that does not drain (a logical clock).
  std::int64_t drain_horizon(std::int64_t last_ms) const override {
    if (!scan_.in_record()) return last_ms;
    input_ended_ = true;
    return last_ms + 1;
  }

  void on_batch_end(std::int64_t, records& out) override {
    if (input_ended_) end_open(out);
  }

  void on_end_of_stream(records& out) override { end_open(out); }

  /// Stateful (an open quote spans records) but chainable: the API routes
  /// parse_csv as one global instance right after its line source.
  bool stateless() const override { return true; }

protected:
  // Checkpoints: a record open over several lines (its scanner state, raw
  // text, where each line ends and its provenance) and the header.
  void save_more(state_writer& w) const override {
    scan_.save(w);
    w.str(raw_);
    w.varint(open_.size());
    for (auto& l : open_) {
      w.varint(l.end);
      w.str(l.prov);  // fixed at the end of every process() call
    }
    w.boolean(have_header_);
    w.varint(header_.size());
    for (auto& h : header_) w.val(h);
  }
  void load_more(state_reader& r) override {
    scan_.load(r);
    raw_ = r.str();
    open_.clear();
    const std::uint64_t n = r.varint();
    if (n > raw_.size() + 1) r.fail("CSV record of " + std::to_string(n) + " lines in " + std::to_string(raw_.size()) + " bytes");
    std::size_t prev = 0;
    for (std::uint64_t k = 0; k < n; ++k) {
      const std::uint64_t end = r.varint();
      if (end < prev || end > raw_.size()) r.fail("bad CSV line end " + std::to_string(end));
      prev = static_cast<std::size_t>(end);
      open_.push_back({prev, npos, r.str()});
    }
    if ((n == 0) != !scan_.in_record() || (n > 0 && scan_.lines() != n))
      r.fail("CSV record of " + std::to_string(n) + " lines with a scanner at line " + std::to_string(scan_.lines()));
    have_header_ = r.boolean();
    header_.clear();
    for (std::uint64_t i = 0, m = r.varint(); i < m; ++i) header_.push_back(r.val());
  }

private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  void end_open(records& out) {
    while (scan_.in_record()) fail_open(scan_.unterminated() + " at end of input", out);
  }

  /// A line of the open record: where it ends in raw_, and where it came
  /// from (an index into the current input, or its provenance once fixed).
  struct open_line {
    std::size_t end;
    std::size_t index;
    std::string prov;
  };

  /// A line to read again after a failed record.
  struct again_line {
    std::string text;
    std::size_t index;
    std::string prov;
  };

  std::string prov_of(std::size_t index, const std::string& prov) const {
    return index != npos ? provenance(index) : prov;
  }

  /// One line: input line `index`, or (index == npos) a line read again
  /// whose provenance is `prov`.
  void feed(std::string_view line, std::size_t index, const std::string& prov, records& out) {
    const bool first = !scan_.in_record();
    if (first && line.empty()) return;  // blank lines between records are skipped
    const auto res = scan_.feed(line);
    if (res == csv_scanner::result::open) {
      const bool over = raw_.size() + line.size() + 1 > o_.max_record_bytes;
      raw_ += line;
      raw_.push_back('\n');
      open_.push_back({raw_.size() - 1, index, index == npos ? prov : std::string()});
      if (over)
        fail_open("record longer than " + std::to_string(o_.max_record_bytes) + " bytes (max_record_bytes): " +
                      scan_.unterminated(),
                  out);
      return;
    }
    if (first) {
      if (res == csv_scanner::result::error) {
        std::string why = scan_.reason();
        scan_.reset();
        bad(line, std::move(why), prov_of(index, prov));
      } else {
        emit(line, index, prov, out);
      }
      return;
    }
    raw_ += line;
    open_.push_back({raw_.size(), index, index == npos ? prov : std::string()});
    if (res == csv_scanner::result::error) {
      fail_open(scan_.reason(), out);
      return;
    }
    emit(raw_, open_.front().index, open_.front().prov, out);
    raw_.clear();
    open_.clear();
  }

  /// The open record failed (`why`): its first line is the bad record, the
  /// lines after it are read again.
  void fail_open(std::string why, records& out) {
    std::vector<again_line> again;
    again.reserve(open_.size() - 1);
    for (std::size_t k = 1; k < open_.size(); ++k)
      again.push_back({raw_.substr(open_[k - 1].end + 1, open_[k].end - open_[k - 1].end - 1), open_[k].index,
                       std::move(open_[k].prov)});
    std::string first = raw_.substr(0, open_.front().end);
    std::string prov = prov_of(open_.front().index, open_.front().prov);
    if (again.size() == 1) why += " (a record from this line on; the line after it is read again)";
    else if (again.size() > 1)
      why += " (a record from this line on; the " + std::to_string(again.size()) + " lines after it are read again)";
    raw_.clear();
    open_.clear();
    scan_.reset();
    bad(first, std::move(why), std::move(prov));
    for (auto& l : again) feed(l.text, l.index, l.prov, out);
  }

  void emit(std::string_view raw, std::size_t index, const std::string& prov, records& out) {
    auto& f = scan_.fields();
    if (o_.header && !have_header_) {
      header_.clear();
      for (auto& s : f) header_.emplace_back(s);
      have_header_ = true;
      scan_.reset();
      return;
    }
    if (o_.header) {
      if (f.size() != header_.size()) {
        std::string why = "expected " + std::to_string(header_.size()) + " fields (as the header), got " +
                          std::to_string(f.size());
        scan_.reset();
        bad(raw, std::move(why), prov_of(index, prov));
        return;
      }
      std::vector<field> obj;
      obj.reserve(f.size());
      for (std::size_t k = 0; k < f.size(); ++k) obj.push_back({header_[k], value(f[k])});
      out.push_back(value::object(std::move(obj)));
    } else {
      std::vector<value> arr;
      arr.reserve(f.size());
      for (auto& s : f) arr.emplace_back(s);
      out.push_back(value::array(std::move(arr)));
    }
    scan_.reset();
  }

  csv_options o_;
  csv_scanner scan_;
  std::string raw_;               // lines of the open record, each followed by '\n' while it is open
  std::vector<open_line> open_;   // its lines
  mutable bool input_ended_ = false;  // set by drain_horizon
  bool have_header_ = false;
  std::vector<value> header_;
};

}  // namespace

bool parse_csv_record(std::string_view text, const csv_options& o, std::vector<std::string>& fields,
                      std::string& reason) {
  csv_scanner sc(o);
  csv_scanner::result r = csv_scanner::result::complete;
  std::size_t b = 0;
  for (;;) {
    auto nl = text.find('\n', b);
    std::string_view line = text.substr(b, nl == std::string_view::npos ? std::string_view::npos : nl - b);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    r = sc.feed(line);
    if (r == csv_scanner::result::error) {
      reason = sc.reason();
      return false;
    }
    if (nl == std::string_view::npos) break;
    if (r == csv_scanner::result::complete) {
      reason = "line " + std::to_string(sc.lines()) + ": the record ends before the text does";
      return false;
    }
    b = nl + 1;
  }
  if (r == csv_scanner::result::open) {
    reason = sc.unterminated();
    return false;
  }
  fields = std::move(sc.fields());
  return true;
}

operator_ptr make_csv_decoder(csv_options o, error_policy policy) {
  if (o.sep == o.quote) throw pipeline_error("parse_csv: sep and quote must differ");
  if (o.sep == '\n' || o.quote == '\n' || o.sep == '\r' || o.quote == '\r')
    throw pipeline_error("parse_csv: sep and quote cannot be line breaks");
  return std::make_unique<csv_decoder>(o, std::move(policy));
}

}  // namespace weir::io
