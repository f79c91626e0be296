// weir — the hooks through which a test program changes what weir does at a
// few named places: crash points (the process dies at a precise step of a
// checkpoint, as kill -9 would) and a quota on the checkpoint directory (a
// full disk without root). weir's libraries only call the hooks; no hook is
// installed in production, where each call is one load and one branch.
// The test support installs them (tests/support/test_hooks.cpp, linked into
// the `weir-testing` binary and the tests that crash themselves):
// docs/architecture.md §9.
#pragma once

#include <cstdint>
#include <string>

namespace weir {

/// What a test program installs. A null member does nothing.
struct test_hooks {
  /// Called by crash_point(point) with the point's name; may end the
  /// process (`_exit`), skipping destructors and buffer flushes.
  void (*crash_point)(const char* point) = nullptr;
  /// Called by checkpoint::store::write when store_options::max_bytes is 0:
  /// the quota in bytes on the checkpoint directory (0 = none), and in
  /// `source` what set it (named in the full-disk error). May throw: the
  /// write then fails with a checkpoint_error carrying the message.
  std::uint64_t (*checkpoint_quota)(std::string& source) = nullptr;
};

/// Installs `hooks`, replacing the ones installed before.
/// @thread Call before any other thread of weir runs (e.g. from a static
///         initializer): the hooks are read without synchronisation.
void install_test_hooks(const test_hooks& hooks) noexcept;

/// The installed hooks; every member is null unless a test installed one.
const test_hooks& installed_test_hooks() noexcept;

/// A named crash point. Names: "after_snapshot_write", "before_manifest_rename"
/// (checkpoint::store::write), "after_manifest_before_commit" (the runtime,
/// between a checkpoint's MANIFEST and its sinks' commit), "during_sink_commit"
/// (the two-phase-commit sinks), "during_recovery" (restoring a checkpoint).
/// Does nothing unless a test installed test_hooks::crash_point.
/// @thread Safe from any thread once the hooks are installed.
void crash_point(const char* point);

}  // namespace weir
