// Navigation and sequence rules the evaluator shares: field lookup over sequences, wildcards,
// descendants, appending, and the binding objects (tuples) of `@`, `#` and `%`.
#pragma once

#include <string_view>

#include "workflows/jsonata/value.h"

namespace loam::jsonata {

// `input.name`: the field of an object; over an array, the fields of its members, flattened
// one level, as a sequence.
Value LookupField(const Value& input, std::string_view name);
// `*`: every field value of an object (arrays flattened).
Value Wildcard(const Value& input);
// `**`: the value and everything beneath it.
Value Descendants(const Value& input);
// $append's rule: undefined gives way to the other side; arrays concatenate into a plain array.
Value Append(const Value& a, const Value& b);
// A copy whose arrays and objects belong to nobody else, as $clone makes it (through JSON text).
StatusOr<Value> DeepCopy(const Value& value);

// A tuple's binding, or undefined.
Value TupleGet(const Value& tuple, std::string_view name);
// `tuple` with `name` set.
Value TupleWith(const Value& tuple, std::string_view name, Value value);
// A tuple stream of `tuples`.
Value TupleStream(std::vector<Value> tuples);

}  // namespace loam::jsonata
