// libFuzzer target: the DSL front end — lexer, parser and analyzer
// (compile_script, what `weir check` runs). A script is either compiled or
// refused with an error (dsl_error, or a pipeline_error of a stage's
// arguments); nothing else may escape, and no script may crash or hang it.
#include <stdexcept>
#include <string>

#include "fuzz_util.hpp"
#include "weir/cli/pipeline_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)weir::dsl::compile_script(weir::fuzz::text(data, size), "fuzz.weir");
  } catch (const std::runtime_error&) {  // dsl_error, pipeline_error: refused with a message
  }
  return 0;
}
