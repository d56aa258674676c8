// JSONata's function library: the standard functions of JSONata 2.0 and those Step Functions
// adds ($partition, $range, $hash, $random, $uuid, $parse). Each is declared with the
// reference implementation's signature ("<s-nn?:s>"), which checks and coerces its arguments
// before the implementation sees them (signature.h).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "workflows/jsonata/value.h"

namespace loam::jsonata {

// What a native function may ask of the evaluation that calls it.
class CallContext {
 public:
  virtual ~CallContext() = default;
  // Calls any function value: a lambda, a native function, a partial application, a regex.
  virtual StatusOr<Value> Apply(const Value& function, std::vector<Value> args) = 0;
  // The moment the evaluation began: $now() and $millis() agree within one expression.
  virtual int64_t NowMillis() const = 0;
  // $random, $shuffle and $uuid draw from this.
  virtual std::mt19937_64& Random() = 0;
};

// The implementation of one native function. `args` are already checked against the
// signature: optional ones missing are undefined, a `-` argument missing is the context,
// an `a` argument given a single value is wrapped in an array.
using NativeImpl = StatusOr<Value> (*)(std::vector<Value>& args, CallContext& call);

// Argument `index` of a call, or undefined when the call has fewer.
inline const Value& Arg(const std::vector<Value>& args, size_t index) {
  static const Value kUndefined;
  return index < args.size() ? args[index] : kUndefined;
}

struct NativeFunction {
  const char* name;       // without the "$"
  const char* signature;  // the reference implementation's, e.g. "<s-nn?:s>"
  NativeImpl impl;
  // How many arguments a higher-order function passes it as a callback: the reference's
  // JavaScript declares this many parameters. -1: as many as the signature has.
  int callback_arity = -1;
};

// The library, in parts by subject (functions_*.cc).
void AddStringFunctions(std::vector<NativeFunction>& out);      // functions_strings.cc
void AddFormatFunctions(std::vector<NativeFunction>& out);      // functions_format.cc: $formatNumber, $formatBase
void AddNumericFunctions(std::vector<NativeFunction>& out);     // functions_numeric.cc: numbers, aggregates, booleans
void AddCollectionFunctions(std::vector<NativeFunction>& out);  // functions_collections.cc: arrays, objects, higher-order
void AddTimeFunctions(std::vector<NativeFunction>& out);        // functions_time.cc
void AddStepFunctionsFunctions(std::vector<NativeFunction>& out);  // functions_states.cc

// All of the above, built once.
const std::vector<NativeFunction>& StandardLibrary();

}  // namespace loam::jsonata
