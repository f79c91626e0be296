#include "weir/io/guarded.hpp"

#include "weir/io/detail/decoder_base.hpp"

namespace weir::io {
namespace {

class guarded_map final : public detail::decoder_base {
public:
  guarded_map(map_fn f, error_policy p) : decoder_base(std::move(p)), f_(std::move(f)) {}
  void decode(records& in, records& out) override {
    out.reserve(out.size() + in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      try {
        out.push_back(f_(in[i]));
      } catch (const record_error& e) {
        bad(in[i].to_json(), e.what(), provenance(i));
      }
    }
    consumed(in.size());
  }
  bool stateless() const override { return true; }

private:
  map_fn f_;
};

class guarded_flat_map final : public detail::decoder_base {
public:
  guarded_flat_map(flat_map_fn f, error_policy p) : decoder_base(std::move(p)), f_(std::move(f)) {}
  void decode(records& in, records& out) override {
    for (std::size_t i = 0; i < in.size(); ++i) {
      const std::size_t mark = out.size();
      try {
        f_(in[i], out);
      } catch (const record_error& e) {
        out.resize(mark);  // none of the failed record's outputs
        bad(in[i].to_json(), e.what(), provenance(i));
      }
    }
    consumed(in.size());
  }
  bool stateless() const override { return true; }

private:
  flat_map_fn f_;
};

class guarded_filter final : public detail::decoder_base {
public:
  guarded_filter(filter_fn f, error_policy p) : decoder_base(std::move(p)), f_(std::move(f)) {}
  void decode(records& in, records& out) override {
    for (std::size_t i = 0; i < in.size(); ++i) {
      try {
        if (f_(in[i])) out.push_back(std::move(in[i]));
      } catch (const record_error& e) {
        bad(in[i].to_json(), e.what(), provenance(i));
      }
    }
    consumed(in.size());
  }
  bool stateless() const override { return true; }

private:
  filter_fn f_;
};

}  // namespace

operator_ptr make_guarded_map(map_fn f, error_policy policy) {
  return std::make_unique<guarded_map>(std::move(f), std::move(policy));
}
operator_ptr make_guarded_flat_map(flat_map_fn f, error_policy policy) {
  return std::make_unique<guarded_flat_map>(std::move(f), std::move(policy));
}
operator_ptr make_guarded_filter(filter_fn f, error_policy policy) {
  return std::make_unique<guarded_filter>(std::move(f), std::move(policy));
}

}  // namespace weir::io
