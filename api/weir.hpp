// weir — the whole public C++ API in one include: `#include <weir/weir.hpp>`
// (installed as include/weir/weir.hpp; in the build tree it is a link to
// api/weir.hpp). It gives streaming_context and dstream (api/dstream.hpp,
// Spark Streaming's API over weir::value), the typed weir::stream<T> with
// its codecs (api/stream.hpp, api/codec.hpp), the option and result types
// (api/options.hpp), and through them sources, receivers, decoders and sinks (Kafka,
// PostgreSQL, files), plus the dead-letter file of the on_error policy.
// CAF, librdkafka and libpq stay out of it: none of their headers is
// included. The benchmark generators' options (io/bench_generators.hpp) are
// not part of it.
#pragma once

#include "weir/api/codec.hpp"
#include "weir/api/dstream.hpp"
#include "weir/api/options.hpp"
#include "weir/api/stream.hpp"
#include "weir/io/dead_letter.hpp"
