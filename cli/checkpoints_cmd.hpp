// weir — `weir checkpoints list DIR` and `weir checkpoints inspect DIR [ID]`:
// what a `--checkpoint DIR` holds (checkpoint/checkpoint.hpp).
//
//   weir checkpoints list DIR
//     one line per checkpoint folder, oldest first:
//     ID  TIME (ISO-8601 UTC)  BYTES (on disk)  TASKS  STATUS (valid[, final] | the problem)
//   weir checkpoints inspect DIR [ID]
//     the checkpoint ID (default: the newest valid one): id, time, plan, and
//     per task its name, finished flag, runtime state bytes, source position
//     and each operator section's name and size in bytes.
//
// Exit codes: 0, or 1 with one line "weir checkpoints: DIR: <problem>" on
// stderr (missing directory, unknown or invalid id, no valid checkpoint).
#pragma once

#include <cstdio>
#include <optional>
#include <string>

namespace weir::cli {

/// The parsed command line of `weir checkpoints`.
struct checkpoints_args {
  std::string action;              ///< "list" or "inspect"
  std::string dir;                 ///< the checkpoint directory
  std::optional<std::string> id;   ///< inspect: the checkpoint id (decimal), default newest valid
};

/// Runs `weir checkpoints ACTION`; output on `out`, errors and warnings on `err`.
/// @returns the exit code (0 or 1). Never throws.
int run_checkpoints(const checkpoints_args& a, std::FILE* out = stdout, std::FILE* err = stderr);

/// Registers `checkpoints list|inspect` on a CLI11 app (a template so that
/// only main.cpp includes CLI11). `a.action` is set when one was parsed.
template <class App>
App* add_checkpoints_command(App& app, checkpoints_args& a) {
  App* cmd = app.add_subcommand("checkpoints", "list or inspect the checkpoints of a --checkpoint DIR");
  cmd->require_subcommand(1);
  App* list = cmd->add_subcommand(
      "list", "one line per checkpoint: id, time (UTC), bytes, tasks, valid/final or the problem");
  list->add_option("dir", a.dir, "checkpoint directory")->required();
  list->callback([&a] { a.action = "list"; });
  App* inspect = cmd->add_subcommand(
      "inspect", "a checkpoint's tasks, source positions and operator state sizes (default: newest valid)");
  inspect->add_option("dir", a.dir, "checkpoint directory")->required();
  inspect->add_option("id", a.id, "checkpoint id (default: the newest valid one)");
  inspect->callback([&a] { a.action = "inspect"; });
  return cmd;
}

}  // namespace weir::cli
