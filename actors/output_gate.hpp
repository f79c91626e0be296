// weir — a task's output gate: its out edges and channels, the wire batches
// being filled, routing (forward, keyed hash, record hash), and the credit
// protocol on the sending side (Flink's credit-based network stack,
// docs/architecture.md §3). CAF-free: it hands ready items to a
// channel_sender.
//
// Credit protocol: each channel starts with `edge_capacity` credits; a data
// item (a wire batch) takes one to leave, control items (batch end, barrier,
// end of stream) none but wait behind the data before them. Without credit
// the channel holds its outbox and the gate is blocked(); the task then
// consumes no input (a source reads nothing) until credit returns. Memory is
// bounded by edge capacity × batch bytes per channel plus what one activation
// emits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include "weir/actors/graph.hpp"
#include "weir/actors/protocol.hpp"
#include "weir/operators/detail/hash_memo.hpp"

namespace weir::actors {

/// The transport the output gate sends ready items through (the task's
/// actor: one CAF message per item).
class channel_sender {
public:
  virtual ~channel_sender() = default;
  /// Sends `it` on channel `chan` of out edge `edge`; in order per channel.
  virtual void send(std::size_t edge, std::size_t chan, item&& it) = 0;
};

/// One sender → receiver channel.
struct out_channel {
  std::int64_t credit = 0;      ///< wire batches it may still send
  records building;             ///< the wire batch being filled
  std::vector<std::uint64_t> building_hashes;  ///< keyed edges: the key hash of each record of `building`
  std::vector<watermark_mark> building_marks;
  std::int64_t building_ingest = std::numeric_limits<std::int64_t>::max();
  std::deque<item> outbox;      ///< ready to send, in order
};

/// One out edge of the plan: a channel per receiving instance it reaches.
struct out_edge {
  plan::edge_kind kind = plan::edge_kind::forward;
  std::string target_name;     ///< for errors ("reduce_by_key expects pairs")
  std::vector<out_channel> chans;
  weir::detail::hash_memo key_hash;  ///< keyed edges: key → hash, for the keys routed again and again
};

/// A task's out edges. Ingestion times are steady-clock ns.
/// @thread Single-threaded (the task's).
class output_gate {
public:
  /// `batch_size` = max records per wire batch (>= 1).
  explicit output_gate(std::size_t batch_size = 1024) : batch_size_(batch_size) {}

  void set_sender(channel_sender* s) noexcept { sender_ = s; }
  /// Adds an out edge; returns its index.
  std::size_t add_edge(plan::edge_kind kind, std::string target_name);
  /// Adds a channel with `credit` initial credits to edge `edge`; returns its index.
  std::size_t add_channel(std::size_t edge, std::int64_t credit);

  bool empty() const noexcept { return edges_.empty(); }
  const std::vector<out_edge>& edges() const noexcept { return edges_; }

  /// Some channel holds output for want of credit.
  bool blocked() const;
  /// Some channel has a partly filled wire batch or watermark not yet sealed.
  bool pending() const;

  /// Routes `recs` to every out edge (consumed); the records have ingestion
  /// time `ingest_ns`. A full wire batch is sealed and sent at once.
  /// @errors pipeline_error when a keyed edge gets a record that is not a pair.
  void emit(records& recs, std::int64_t ingest_ns);
  /// A watermark (or the idle status) after the records emitted so far, on
  /// every channel: positioned inside the wire batch being filled.
  void emit_watermark(std::int64_t wm, watermark_status st);
  /// A control signal (mark, barrier, eos) on every channel, after the
  /// records emitted so far (an empty batch carries `ingest_ns`).
  void emit_signal(item_kind k, std::int64_t t, std::int64_t ingest_ns);
  /// Seals and sends every partly filled wire batch (record mode's linger).
  void flush_building(std::int64_t ingest_ns);
  /// Credit `n` returned on channel `chan` of edge `edge`: sends what it held.
  /// @errors std::out_of_range for an unknown edge or channel.
  void on_credit(std::size_t edge, std::size_t chan, std::int32_t n);

private:
  void flush(std::size_t edge, std::size_t chan);
  void seal(out_channel& c, std::int64_t ingest_ns);
  [[gnu::noinline]] void seal_and_flush(std::size_t edge, std::size_t chan, std::int64_t ingest_ns);
  [[gnu::noinline]] void start_building(out_channel& c, bool hashes);

  std::size_t batch_size_;
  channel_sender* sender_ = nullptr;
  std::vector<out_edge> edges_;
};

}  // namespace weir::actors
