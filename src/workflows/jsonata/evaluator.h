// The tree-walking evaluator behind Expression::Evaluate: one Evaluator per evaluation, holding
// the clock, the random source and the step budget that keeps a runaway expression (an endless
// recursion, a loop over a huge range) from stalling its execution.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workflows/jsonata/ast.h"
#include "workflows/jsonata/functions.h"
#include "workflows/jsonata/jsonata.h"

namespace loam::jsonata {

// The deepest value an evaluation may build: Loam's limit on the nesting of JSON it takes in.
inline constexpr uint32_t kMaxValueNesting = 512;
// The largest value an evaluation may build (Value::weight): 16 million parts, about 128 MB of
// text.
inline constexpr uint32_t kMaxValueWeight = 16'000'000;

// Variable bindings: blocks and lambdas open a frame over the one they are in.
class Frame {
 public:
  explicit Frame(std::shared_ptr<Frame> parent) : parent_(std::move(parent)) {}
  void Bind(std::string_view name, Value value);
  // Here or in an enclosing frame, then the function library; nullptr when unbound.
  const Value* Lookup(std::string_view name) const;

 private:
  std::shared_ptr<Frame> parent_;
  std::vector<std::pair<std::string, Value>> bindings_;
};
using FramePtr = std::shared_ptr<Frame>;

class Evaluator final : public CallContext {
 public:
  Evaluator(const EvaluateOptions& options, std::shared_ptr<const Node> root);

  StatusOr<Value> Eval(const Node& expr, const Value& input, const FramePtr& env);

  // CallContext: functions native code calls back (the $map callback, $sort's comparator).
  StatusOr<Value> Apply(const Value& function, std::vector<Value> args) override;
  int64_t NowMillis() const override { return now_millis_; }
  // Made on first use: seeding a generator costs more than most evaluations.
  std::mt19937_64& Random() override {
    if (!random_) random_.emplace(random_seed_ ? *random_seed_ : std::random_device{}());
    return *random_;
  }

  // Applies `procedure`, running tail calls in a loop rather than by recursion.
  StatusOr<Value> ApplyFunction(const Value& procedure, std::vector<Value> args, const Value& input);
  // Binds the arguments (checked against the lambda's signature) and evaluates its body.
  StatusOr<Value> ApplyLambda(const class Lambda& lambda, std::vector<Value> args, const Value& input);
  // Makes the tail calls `first` hands back until a value comes out.
  StatusOr<Value> RunTailCalls(StatusOr<Value> first, const Value& input);


 private:
  StatusOr<Value> EvalNode(const Node& expr, const Value& input, const FramePtr& env);
  StatusOr<Value> EvalPath(const Node& expr, const Value& input, const FramePtr& env);
  StatusOr<Value> EvalStep(const Node& step, const Value& input, const FramePtr& env, bool last_step);
  StatusOr<Value> EvalTupleStep(const Node& step, const Value& input, const Value* tuples, const FramePtr& env);
  StatusOr<Value> EvalStages(const std::vector<Stage>& stages, Value input, const FramePtr& env);
  StatusOr<Value> EvalFilter(const Node& predicate, const Value& input, const FramePtr& env);
  StatusOr<Value> EvalBinary(const Node& expr, const Value& input, const FramePtr& env);
  StatusOr<Value> EvalArray(const Node& expr, const Value& input, const FramePtr& env);
  StatusOr<Value> EvalGroup(const Pairs& pairs, const Value& input, const FramePtr& env, size_t position);
  StatusOr<Value> EvalSort(const Node& expr, const Value& input, const FramePtr& env);
  StatusOr<Value> EvalFunction(const Node& expr, const Value& input, const FramePtr& env, const Value* apply_to);
  StatusOr<Value> EvalPartial(const Node& expr, const Value& input, const FramePtr& env);
  StatusOr<Value> EvalApply(const Node& expr, const Value& input, const FramePtr& env);
  StatusOr<Value> ApplyOnce(const Value& procedure, std::vector<Value> args, const Value& input);

  std::shared_ptr<const Node> root_;
  int64_t now_millis_;
  std::optional<uint64_t> random_seed_;
  std::optional<std::mt19937_64> random_;
  size_t max_depth_;
  size_t depth_ = 0;
  uint64_t steps_left_;
};

// A function written in JSONata: `function($x){ ... }`, a partial application of one, or a
// pending tail call (`thunk`), which the caller's loop applies.
class Lambda final : public Function {
 public:
  std::vector<std::string> parameters;
  const Signature* signature = nullptr;
  const Node* body = nullptr;  // for a thunk: the call node
  Value input;
  FramePtr env;
  bool thunk = false;
  std::shared_ptr<const Node> root;  // keeps `body` alive as long as the function

  size_t Arity() const override { return parameters.size(); }
  StatusOr<Value> Call(std::vector<Value> args, const Value& context, CallContext& call) const override;
};

// Truth as conditions, `and`, `or` and predicates see it: Truthy, except that a function value is
// true there (the reference implementation sees a non-empty object), where $boolean says false.
inline bool Holds(const Value& value) { return value.is_function() || Truthy(value); }

// The library's functions, by name, as values.
const Value* LibraryFunction(std::string_view name);


}  // namespace loam::jsonata
