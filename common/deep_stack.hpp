// weir — running a deeply recursive function on a thread with a stack of a known size.
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace weir {

/// The stack the DSL front end (parser, analyzer, expression compiler) runs on:
/// 64 MiB of address space, touched only as deep as the recursion goes. A
/// script's nesting is bounded (docs/architecture.md §9), so the recursion fits
/// in this whatever `ulimit -s` the process was started with.
inline constexpr std::size_t deep_stack_bytes = std::size_t{64} << 20;

namespace detail {
/// Runs fn(arg) on a new thread with a stack of `bytes` and joins it.
/// @errors std::system_error when the thread cannot be created.
void run_on_stack(std::size_t bytes, void (*fn)(void*), void* arg);
}  // namespace detail

/// Calls f() on a fresh thread whose stack is `bytes` long, waits for it and
/// returns its result; an exception thrown by f is rethrown in the caller.
/// Costs one thread creation (~20 µs): for once-per-job work such as compiling
/// a script, never per record.
/// @errors what f throws; std::system_error when no thread can be created.
/// @thread Blocks the calling thread until f returns.
template <class F>
auto with_stack(std::size_t bytes, F&& f) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  struct frame {
    F* fn;
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> result;
  } fr{&f, nullptr, std::nullopt};
  detail::run_on_stack(
      bytes,
      [](void* p) {
        auto* st = static_cast<frame*>(p);
        try {
          if constexpr (std::is_void_v<R>) {
            (*st->fn)();
            st->result.emplace(true);
          } else {
            st->result.emplace((*st->fn)());
          }
        } catch (...) {
          st->error = std::current_exception();
        }
      },
      &fr);
  if (fr.error) std::rethrow_exception(fr.error);
  if constexpr (!std::is_void_v<R>) return std::move(*fr.result);
}

}  // namespace weir
