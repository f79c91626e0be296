// weir — errors of the pipeline DSL, with the place in the script they point at.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

namespace weir::dsl {

/// A place in a DSL script. `file` is the script path (or "-e" for
/// `weir run -e`); line and column count from 1, columns in characters.
struct source_location {
  std::shared_ptr<const std::string> file;  ///< shared by every location of a script
  int line = 1;
  int column = 1;

  /// "FILE:LINE:COLUMN".
  std::string str() const;
};

/// Every syntax, name and type error found while parsing or building a DSL
/// script. `what()` is the one-line message the CLI prints as is:
/// `pipeline.weir:3:14: unknown operator 'reduce_by_kye' (did you mean 'reduce_by_key'?)`.
/// Runtime errors on records are `weir::record_error`, not dsl_error.
class dsl_error : public std::runtime_error {
public:
  dsl_error(source_location where, const std::string& message);

  const source_location& where() const noexcept { return where_; }
  /// The message without the location prefix.
  const std::string& message() const noexcept { return message_; }

private:
  source_location where_;
  std::string message_;
};

}  // namespace weir::dsl
