// A JSONata evaluator: JSONata 2.0.6, the version Step Functions runs, with the functions Step
// Functions adds. An expression is compiled once (syntax errors carry the reference
// implementation's codes, S0xxx) and evaluated any number of times, from any thread, against an
// input and a set of variable bindings. Errors at evaluation carry the reference's codes too
// (T2001, D3030, ...), at the start of the Status message.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "workflows/jsonata/value.h"

namespace loam::jsonata {

struct Node;

// Variables an expression sees, by name without the "$".
using Bindings = std::map<std::string, Value, std::less<>>;

struct EvaluateOptions {
  std::optional<int64_t> now_millis;    // $now and $millis; the clock when unset
  std::optional<uint64_t> random_seed;  // $random/$shuffle/$uuid draws; random when unset
  size_t max_depth = 1500;              // nested evaluation depth before error U1001 (~3 MB of stack)
  uint64_t max_steps = 10'000'000;      // evaluation steps before error U1002 (endless loops)
};

class Expression {
 public:
  // InvalidArgument with the syntax error's code and position for malformed text.
  static StatusOr<Expression> Compile(std::string_view text);

  // The value, or undefined when the expression matches nothing.
  StatusOr<Value> Evaluate(const Value& input, const Bindings& bindings,
                           const EvaluateOptions& options = {}) const;

  // The variables the expression reads that it does not bind itself ("$x" as "x"), sorted.
  const std::vector<std::string>& FreeVariables() const { return free_variables_; }


 private:
  std::shared_ptr<const Node> root_;
  std::vector<std::string> free_variables_;
};

// Compile, remembered per thread (definitions evaluate the same expressions again and again).
StatusOr<std::shared_ptr<const Expression>> CachedExpression(std::string_view text);


}  // namespace loam::jsonata
