// weir — built-in receivers: file, stdin and the web-access-log generator.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "weir/io/source.hpp"
#include "weir/operators/error_policy.hpp"

namespace weir::io {

/// Lines of a text file, without the line terminator ("\n" or "\r\n").
/// Bytes are passed through unchanged (invalid UTF-8 is kept as is). Lines
/// longer than `max_line_bytes` are an error naming file:line.
/// Spark: `ssc.textFileStream` for one file / `sc.textFile`.
/// A `path` with `*`, `?` or `[` is a glob(7) pattern (`logs/*.log`): the
/// matching files are read one after the other, sorted by name (byte order);
/// a pattern matching no file is an error at open().
/// Checkpoints: replayable — the position is the byte offset and line after
/// the last line read (for a glob: the file list of the first run, the
/// current file's index and its position); a restore seeks there, so
/// provenance "PATH:LINE" continues. A file now shorter than the recorded
/// offset is a pipeline_error naming the file and the offset.
/// @errors open() throws pipeline_error when the file cannot be opened.
source_ptr make_file_source(std::string path, std::size_t max_line_bytes = 64u << 20);

/// One byte range of a file: the lines that *start* in [start, end) (Hadoop's
/// TextInputFormat, Flink's FileSource splits). A reader starting at start
/// > 0 skips to just after the first '\n' at or after start - 1, and reads
/// its last line to its end, past `end`. The last split of a file has end
/// = 2^64 - 1 (to the file's end, also if it grew).
struct file_split {
  std::size_t file = 0;       ///< index into file_split_plan::files
  std::uint64_t start = 0;    ///< byte offset
  std::uint64_t end = 0;      ///< byte offset (exclusive)
  std::uint64_t bytes = 0;    ///< the split's bytes when planned (progress)
};

/// The splits of the files of a file(...) source and their assignment to
/// its instances.
struct file_split_plan {
  std::vector<std::string> files;      ///< sorted by name (byte order)
  std::vector<std::uint64_t> sizes;    ///< bytes of each file when planned
  std::uint64_t split_bytes = 0;       ///< the split size
  std::size_t splits = 0;              ///< over all instances
  /// instances[i]: the splits instance i reads, in order (file, then offset).
  std::vector<std::vector<file_split>> instances;
};

/// Cuts each file into splits of max(min_split_bytes, total / parallelism)
/// bytes (the last split of a file is shorter) and hands each split, in
/// order, to the instance with the fewest bytes so far (the first on a
/// tie): the instances get about the same number of bytes, each its splits
/// in file and offset order. Deterministic for the same files and sizes.
/// @errors pipeline_error for parallelism < 1.
file_split_plan plan_file_splits(std::vector<std::string> files, std::vector<std::uint64_t> sizes, int parallelism,
                                 std::uint64_t min_split_bytes = 4u << 20);

/// file(path) as a data-parallel source: a factory of instance i of P. At P
/// = 1 it is make_file_source(path) (one reader, positions as before). At P
/// > 1 the files matching `path` (a glob or one file) are listed and split
/// once per run, when instance 0 is made (plan_file_splits), and instance i
/// reads its splits one after the other. Provenance stays "PATH:LINE": the
/// line number of a split not at the file's start is found by counting the
/// '\n' before the split's first line, once per split, only when a record's
/// provenance is asked (an error or a dead letter). The records' text can be
/// lent in place (io::detail::lines_origin), as file(path)'s.
/// Checkpoints: replayable — the position is the instance's splits (file,
/// range), the split being read and the byte offset and line in it; a
/// restore resumes exactly there. A position of another parallelism is
/// refused naming both (the run's plan check refuses it first).
/// @errors the factory throws pipeline_error "file(\"x\"): cannot open: ..."
///         for a file that cannot be opened and "no file matches the pattern"
///         for a glob matching nothing; reads as make_file_source.
/// @thread The factory may be called from any thread; the readers as
///         source_reader (one caller at a time).
std::function<source_ptr(int instance, int parallelism)> make_file_source_parts(
    std::string path, std::size_t max_line_bytes = 64u << 20, std::uint64_t min_split_bytes = 4u << 20);

/// One line for `weir explain`: "file x2: 6 splits of ~32 MB over 1 file"
/// (P = 1: "file x1: whole over 1 file (12 MB), in order"). Lists the files
/// (glob and stat) without reading them; when that fails: "file x2: splits
/// planned at start (now file(\"x\"): cannot open: No such file or directory)"
/// (P = 1: "file x1: whole, in order (now ...)").
std::string describe_file_splits(const std::string& path, int parallelism, std::uint64_t min_split_bytes = 4u << 20);

/// Lines of standard input (non-blocking: returns idle while no data is ready).
/// Not replayable: with checkpoints, lines in flight at a crash are lost
/// (at-most-once for them).
source_ptr make_stdin_source(std::size_t max_line_bytes = 64u << 20);

/// Spark-style deterministic replay: a JSON-lines file, one line = one batch's
/// elements (a JSON array); batch k ends at time (k+1)·B on a logical clock
/// (as fast as possible); after the last line, empty batches until `total`
/// batches have run (total <= 0: as many as lines). Instance `part` of
/// `parts` reads partition `part` of every batch: of a batch's n items, those
/// at [part·n/parts, (part+1)·n/parts) (Spark's makeRDD slicing).
/// @errors pipeline_error for part outside [0, parts); open() throws pipeline_error naming the file and the line for a
///         missing file, malformed JSON or a line that is not an array.
/// Checkpoints: replayable (the batch index, i.e. the logical clock, and the
/// record within the batch).
source_ptr make_batches_source(std::string path, std::int64_t total, int part = 0, int parts = 1);

/// A realistic web-access-log event generator (the main job's default input).
/// Records are objects: {"time": ms since epoch (int), "ip": string,
/// "method": string, "path": string, "status": int, "bytes": int,
/// "agent": string}. Paths are Zipf-distributed; status codes follow a
/// 200/304/404/500 mix with occasional bursts of 5xx; deterministic for a seed.
struct access_log_options {
  std::uint64_t seed = 42;
  double rate = 0;                         ///< records/s; 0 = as fast as credit allows
  std::uint64_t count = 0;                 ///< stop after this many records; 0 = no limit
  std::chrono::milliseconds duration{0};   ///< stop after this long; 0 = no limit
  std::size_t paths = 1000;                ///< number of distinct URL paths
  double zipf_s = 1.1;                     ///< Zipf exponent of path popularity
  std::int64_t start_time_ms = 1'700'000'000'000;  ///< event time of the first record
};
/// Checkpoints: replayable (count emitted, both RNG states, burst schedule,
/// run time so far; a position of another seed, rate or paths is an error).
source_ptr make_access_log_generator(const access_log_options& opts);

}  // namespace weir::io

// --- receivers: directories, sockets ------------------------------

#include <string_view>

namespace weir::io {

/// Options of `make_dir_source` (the DSL's `dir(path, ...)`).
struct dir_options {
  /// Also read the files already in the directory at start (Spark's
  /// `fileStream(..., newFilesOnly = false)`); default: only files that
  /// appear after start (Spark's `textFileStream`).
  bool include_existing = false;
  /// The directory is listed at most once per `poll` (ms); read() returns
  /// idle in between.
  std::chrono::milliseconds poll{100};
  std::size_t max_line_bytes = 64u << 20;
  /// This reader is instance `instance` of `instances` (a data-parallel
  /// source): it reads only the files whose name's xxh3 hash is `instance`
  /// mod `instances`, so every file is read by exactly one instance.
  int instance = 0, instances = 1;
};

/// Spark's `textFileStream(dir)`: the lines of every file that appears in
/// directory `dir` after start, each file read exactly once, whole, in order
/// of arrival (files found by one listing: by modification time, then name).
/// Files must be moved into the directory atomically (write elsewhere or
/// under a hidden name, then rename(2)): a file is read once, when first
/// seen. Names starting with `.` or `_` (temporary files) are ignored; so are
/// subdirectories and a file later modified in place. A file is identified by
/// name and inode: a file moved in under the name of an older one is read if
/// its inode differs or a listing saw the older one gone.
/// The stream never ends by itself (it runs until the context is stopped).
/// Provenance (origin()): "<dir>/<name>:<line>" (line 1-based).
/// @errors open() throws pipeline_error if `dir` is not a readable directory;
///         read() throws pipeline_error if a listed file cannot be opened
///         (e.g. deleted before it was read) and record_error
///         "<file>:<line>: line longer than N bytes".
/// @thread As source_reader: one caller at a time.
/// Checkpoints: replayable — the position holds the names (and inodes) of
/// the files seen (read, being read or queued) and the byte offset and line
/// in the current file; files that appear while the job is down are read
/// after the restore.
source_ptr make_dir_source(std::string dir, dir_options opts = {});

/// A parsed "host:port" address.
struct endpoint {
  std::string host;  ///< "" for `:port` (listen: every interface); IPv6 without brackets
  std::uint16_t port = 0;
  std::string str() const;  ///< "host:port" ("[::1]:port" for IPv6)
};

/// Parses "host:port", "[v6addr]:port" or (with `allow_empty_host`, for
/// listen) ":port". Port 0..65535 (0 only with `allow_empty_host`: any free port).
/// @errors pipeline_error "<what>: expected host:port (e.g. \"localhost:9999\"), got \"...\""
///         or "<what>: bad port \"x\" (expected 1-65535)".
endpoint parse_endpoint(std::string_view address, bool allow_empty_host, const std::string& what);

/// Options of `make_socket_source` (the DSL's `socket(address, ...)`).
struct socket_options {
  /// Spark's socketTextStream restarts its receiver when the peer closes the
  /// connection or the connection fails: with `reconnect` (the default) weir
  /// reconnects likewise, forever, waiting `backoff`, doubling up to
  /// `max_backoff` (Spark's receiver restart delay, 2 s) between attempts (the
  /// wait starts again at `backoff` after a connection that delivered lines),
  /// with a one-line warning on stderr per restart; the stream runs until the
  /// context is stopped. Without it, a clean close by the peer ends the stream
  /// and a connection error (e.g. reset) fails the pipeline.
  bool reconnect = true;
  /// Attempts to establish the *first* connection before failing the
  /// pipeline (so an unreachable server is an error in bounded time: at most
  /// retries × (connect_timeout + max_backoff)).
  int retries = 5;
  std::chrono::milliseconds connect_timeout{2000};  ///< per connection attempt
  std::chrono::milliseconds backoff{100};
  std::chrono::milliseconds max_backoff{2000};
  /// SO_RCVBUF in bytes (0 = the kernel's default, autotuned). A smaller
  /// buffer makes backpressure reach the sender sooner.
  int receive_buffer = 0;
  std::size_t max_line_bytes = 64u << 20;
  /// A line longer than max_line_bytes: `skip` drops it (its bytes are read
  /// and discarded up to its newline) and reading goes on; `dead_letter`
  /// also hands its first max_line_bytes bytes to the dead-letter writer;
  /// `fail` (the default) ends the connection — with `reconnect` a new one
  /// is made, without it the run fails. Dropped lines are counted in
  /// malformed_records(); the lines before it are delivered either way.
  error_policy on_error;
};

/// Spark's `socketTextStream(host, port)`: connects to `address`
/// ("host:port") and yields its lines ("\n" or "\r\n" stripped). Non-blocking
/// throughout (connect, read): read() returns idle while nothing is ready.
/// When the source has no credit it is not read, the kernel's receive buffer
/// fills, the TCP window closes and the sender blocks (backpressure).
/// A partial last line at a disconnect is dropped with a one-line warning on
/// stderr ("<peer>: connection closed mid-line ... dropped N bytes").
/// The host name is resolved once, at open(). Provenance: "<peer> line N"
/// (e.g. "127.0.0.1:9999 line 12", lines counted per connection).
/// @errors open() throws pipeline_error for a bad address or a name that
///         cannot be resolved; read() throws pipeline_error "socket(\"h:p\"):
///         cannot connect to h:p: Connection refused (5 attempts)" when the
///         first connection fails `retries` times, and (`on_error = fail`,
///         no `reconnect`) record_error "<peer> line N: line longer than M bytes".
/// Not replayable: with checkpoints, lines in flight at a crash are lost
/// (at-most-once for them; a TCP peer cannot be rewound).
source_ptr make_socket_source(std::string address, socket_options opts = {});

/// Options of `make_listen_source` (the DSL's `listen(address, ...)`).
struct listen_options {
  /// End the stream after this many connections were accepted and have all
  /// closed; 0 (default) = accept connections until the context is stopped.
  std::uint64_t connections = 0;
  std::size_t max_connections = 1024;  ///< further connections wait in the backlog
  int receive_buffer = 0;              ///< SO_RCVBUF of accepted sockets (0 = kernel default)
  std::size_t max_line_bytes = 64u << 20;
  /// A line longer than max_line_bytes is that connection's problem, never
  /// the others': `skip` drops the line (its bytes are discarded up to its
  /// newline) and goes on reading the connection; `dead_letter` also hands
  /// its first max_line_bytes bytes to the dead-letter writer (provenance
  /// "<peer> line N"); `fail` (the default) closes that connection with a
  /// warning on stderr. Either way the lines it and every other connection
  /// sent before stay in the stream, and the line is counted in
  /// malformed_records().
  error_policy on_error;
};

/// A TCP server: listens on `address` (":port" = every interface,
/// "127.0.0.1:port", "[::1]:port"), accepts any number of connections and
/// yields the lines of all of them (lines of one connection in order;
/// connections interleaved round-robin). Non-blocking: accept and read never
/// wait. Without credit no connection is read (each sender's TCP window
/// fills and it blocks). A connection closed mid-line loses only that partial
/// line, reported on stderr. Provenance: "<peer> line N" (e.g.
/// "127.0.0.1:54321 line 12").
/// @errors open() throws pipeline_error for a bad address ("expected
///         host:port"), "cannot listen on H:P: Address already in use", etc.
/// Not replayable: with checkpoints, lines in flight at a crash are lost
/// (at-most-once for them).
source_ptr make_listen_source(std::string address, listen_options opts = {});

}  // namespace weir::io
