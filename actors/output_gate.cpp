// weir — the output gate: routing, wire batches and sender-side credit (see output_gate.hpp).
#include "weir/actors/output_gate.hpp"

#include <algorithm>
#include <cassert>
#include <memory>

#include "weir/operators/basic_operators.hpp"
#include "weir/operators/partitioning.hpp"

namespace weir::actors {

std::size_t output_gate::add_edge(plan::edge_kind kind, std::string target_name) {
  out_edge e;
  e.kind = kind;
  e.target_name = std::move(target_name);
  edges_.push_back(std::move(e));
  return edges_.size() - 1;
}

std::size_t output_gate::add_channel(std::size_t edge, std::int64_t credit) {
  auto& e = edges_.at(edge);
  e.chans.emplace_back();
  e.chans.back().credit = credit;
  return e.chans.size() - 1;
}

bool output_gate::blocked() const {
  for (auto& e : edges_)
    for (auto& c : e.chans)
      if (!c.outbox.empty()) return true;
  return false;
}

bool output_gate::pending() const {
  for (auto& e : edges_)
    for (auto& c : e.chans)
      if (!c.building.empty() || !c.building_marks.empty()) return true;
  return false;
}

void output_gate::flush(std::size_t edge, std::size_t chan) {
  out_channel& c = edges_[edge].chans[chan];
  while (!c.outbox.empty()) {
    item& it = c.outbox.front();
    if (it.kind == item_kind::data) {
      if (c.credit <= 0) return;
      --c.credit;
    }
    sender_->send(edge, chan, std::move(it));
    c.outbox.pop_front();
  }
}

void output_gate::seal(out_channel& c, std::int64_t ingest_ns) {
  if (c.building.empty() && c.building_marks.empty()) return;
  auto b = std::make_shared<wire_batch>();
  b->recs = std::move(c.building);
  b->marks = std::move(c.building_marks);
  b->ingest_ns = b->recs.empty() ? ingest_ns : c.building_ingest;
  if (!c.building_hashes.empty()) {
    assert(c.building_hashes.size() == b->recs.size());
    b->key_hashes = std::move(c.building_hashes);
    c.building_hashes = std::vector<std::uint64_t>();
  }
  c.building = records();
  c.building_marks.clear();
  c.building_ingest = std::numeric_limits<std::int64_t>::max();
  c.outbox.push_back({item_kind::data, 0, std::move(b)});
}

// A full wire batch goes (kept out of line: emit's loop is per record). The
// records pushed by the current emit() have ingestion time ingest_ns.
void output_gate::seal_and_flush(std::size_t edge, std::size_t chan, std::int64_t ingest_ns) {
  out_channel& c = edges_[edge].chans[chan];
  c.building_ingest = std::min(c.building_ingest, ingest_ns);
  seal(c, ingest_ns);
  flush(edge, chan);
}

void output_gate::start_building(out_channel& c, bool hashes) {
  const std::size_t n = std::min<std::size_t>(batch_size_, 1024);
  c.building.reserve(n);
  if (hashes) c.building_hashes.reserve(n);
}

// The ingestion time of the records is folded into a channel's wire batch
// when it is sealed here and at the end, not per record.
void output_gate::emit(records& recs, std::int64_t ingest_ns) {
  if (recs.empty()) return;
  const std::size_t batch = batch_size_;
  for (std::size_t ei = 0; ei < edges_.size(); ++ei) {
    out_edge& e = edges_[ei];
    bool last = ei + 1 == edges_.size();
    if (e.kind == plan::edge_kind::hash || e.kind == plan::edge_kind::hash_record) {
      const int n = static_cast<int>(e.chans.size());
      const bool by_key = e.kind == plan::edge_kind::hash;
      for (auto& r : recs) {
        std::uint64_t h;
        if (!by_key)
          h = r.hash();
        else if (r.is_array() && r.as_array().size() == 2)  // the pair check of as_pair, inline
          h = e.key_hash(r.as_array()[0]);
        else
          h = as_pair(r, e.target_name.c_str()).first->hash();
        const auto ci = static_cast<std::size_t>(partition_of(h, n));
        auto& c = e.chans[ci];
        if (c.building.empty()) [[unlikely]]
          start_building(c, by_key);
        c.building.push_back(last ? std::move(r) : value(r));
        if (by_key) c.building_hashes.push_back(h);  // to the receiving operator (process_context::key_hashes)
        if (c.building.size() >= batch) [[unlikely]]
          seal_and_flush(ei, ci, ingest_ns);
      }
    } else {
      auto& c = e.chans[0];
      for (auto& r : recs) {
        if (c.building.empty()) [[unlikely]]
          start_building(c, false);
        c.building.push_back(last ? std::move(r) : value(r));
        if (c.building.size() >= batch) [[unlikely]]
          seal_and_flush(ei, 0, ingest_ns);
      }
    }
    for (auto& c : e.chans)
      if (!c.building.empty()) c.building_ingest = std::min(c.building_ingest, ingest_ns);
  }
  recs.clear();
}

void output_gate::emit_watermark(std::int64_t wm, watermark_status st) {
  for (auto& e : edges_)
    for (auto& c : e.chans) c.building_marks.emplace_back(static_cast<std::uint32_t>(c.building.size()), wm, st);
}

void output_gate::emit_signal(item_kind k, std::int64_t t, std::int64_t ingest_ns) {
  for (std::size_t ei = 0; ei < edges_.size(); ++ei)
    for (std::size_t ci = 0; ci < edges_[ei].chans.size(); ++ci) {
      auto& c = edges_[ei].chans[ci];
      seal(c, ingest_ns);
      c.outbox.push_back({k, t, nullptr});
      flush(ei, ci);
    }
}

void output_gate::flush_building(std::int64_t ingest_ns) {
  for (std::size_t ei = 0; ei < edges_.size(); ++ei)
    for (std::size_t ci = 0; ci < edges_[ei].chans.size(); ++ci) {
      seal(edges_[ei].chans[ci], ingest_ns);
      flush(ei, ci);
    }
}

void output_gate::on_credit(std::size_t edge, std::size_t chan, std::int32_t n) {
  auto& c = edges_.at(edge).chans.at(chan);
  c.credit += n;
  flush(edge, chan);
}

}  // namespace weir::actors
