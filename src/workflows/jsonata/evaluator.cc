// The evaluator's core: dispatch, operators, constructors, functions and their application.
// Paths, stages, filters, grouping and sorting are in evaluator_paths.cc.
#include "workflows/jsonata/evaluator.h"

#include <chrono>
#include <cmath>
#include <map>
#include <unordered_map>

#include "workflows/jsonata/sequences.h"

namespace loam::jsonata {
namespace {

// A native function from the library, its signature parsed once.
class NativeFunctionValue final : public Function {
 public:
  NativeFunctionValue(const NativeFunction& definition, Signature signature)
      : definition_(definition), signature_(std::move(signature)) {}
  size_t Arity() const override {
    return definition_.callback_arity >= 0 ? static_cast<size_t>(definition_.callback_arity) : signature_.ParameterCount();
  }
  StatusOr<Value> Call(std::vector<Value> args, const Value& context, CallContext& call) const override {
    auto validated = signature_.Validate(std::move(args), context, definition_.name);
    if (!validated.ok()) return validated.status();
    return definition_.impl(*validated, call);
  }

 private:
  const NativeFunction& definition_;
  Signature signature_;
};

// A native function with some arguments given: `$substring(?, 0, 2)`.
class PartialNative final : public Function {
 public:
  PartialNative(Value native, std::vector<std::optional<Value>> args) : native_(std::move(native)), args_(std::move(args)) {
    for (const auto& arg : args_) arity_ += arg.has_value() ? 0 : 1;
  }
  size_t Arity() const override { return arity_; }
  StatusOr<Value> Call(std::vector<Value> args, const Value& context, CallContext& call) const override {
    std::vector<Value> full;
    size_t next = 0;
    for (const auto& arg : args_) {
      if (arg.has_value()) {
        full.push_back(*arg);
      } else {
        full.push_back(next < args.size() ? std::move(args[next]) : Value());
        ++next;
      }
    }
    return native_.function().Call(std::move(full), context, call);
  }

 private:
  Value native_;
  std::vector<std::optional<Value>> args_;
  size_t arity_ = 0;
};

// `f ~> g` with two functions: the function x => g(f(x)).
class ChainedFunction final : public Function {
 public:
  ChainedFunction(Value first, Value second) : first_(std::move(first)), second_(std::move(second)) {}
  size_t Arity() const override { return 1; }
  StatusOr<Value> Call(std::vector<Value> args, const Value&, CallContext& call) const override {
    auto inner = call.Apply(first_, std::move(args));
    if (!inner.ok()) return inner.status();
    return call.Apply(second_, {*inner});
  }

 private:
  Value first_, second_;
};

// `| pattern | update, delete |`: a function from an object to a modified copy of it.
class Transformer final : public Function {
 public:
  Transformer(const Node& node, FramePtr env, std::shared_ptr<const Node> root)
      : node_(node), env_(std::move(env)), root_(std::move(root)) {}
  size_t Arity() const override { return 1; }
  StatusOr<Value> Call(std::vector<Value> args, const Value&, CallContext& call) const override;

 private:
  const Node& node_;
  FramePtr env_;
  std::shared_ptr<const Node> root_;
};

Evaluator* EvaluatorOf(CallContext& call) { return dynamic_cast<Evaluator*>(&call); }

bool IsNumeric(const Value& v) { return v.is_number() && !std::isnan(v.number()); }

Status CheckFinite(const Value& v) {
  if (v.is_number() && std::isinf(v.number())) return Error("D1001", "Number out of range: " + FormatNumber(v.number()));
  return Status::Ok();
}

bool StrictEquals(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kNull:
    case Value::Type::kUndefined: return true;
    case Value::Type::kBool: return a.boolean() == b.boolean();
    case Value::Type::kNumber: return a.number() == b.number();
    case Value::Type::kString: return a.string() == b.string();
    case Value::Type::kArray: return a.identity() == b.identity();
    case Value::Type::kObject: return &a.object() == &b.object();
    case Value::Type::kFunction: return a.identity() == b.identity();
  }
  return false;
}

}  // namespace

// --- Frames and the library ---

void Frame::Bind(std::string_view name, Value value) {
  for (auto& [key, bound] : bindings_) {
    if (key == name) {
      bound = std::move(value);
      return;
    }
  }
  bindings_.emplace_back(std::string(name), std::move(value));
}

const Value* Frame::Lookup(std::string_view name) const {
  for (const Frame* frame = this; frame != nullptr; frame = frame->parent_.get()) {
    for (const auto& [key, bound] : frame->bindings_) {
      if (key == name) return &bound;
    }
  }
  return LibraryFunction(name);
}

const Value* LibraryFunction(std::string_view name) {
  static const auto* library = [] {
    auto* map = new std::map<std::string, Value, std::less<>>();
    for (const NativeFunction& fn : StandardLibrary()) {
      auto signature = Signature::Parse(fn.signature);
      if (!signature.ok()) continue;  // a library bug; its unit test names it
      (*map)[fn.name] = Value(std::shared_ptr<const Function>(std::make_shared<NativeFunctionValue>(fn, std::move(*signature))));
    }
    return map;
  }();
  auto it = library->find(name);
  return it == library->end() ? nullptr : &it->second;
}

StatusOr<Value> Lambda::Call(std::vector<Value> args, const Value& context, CallContext& call) const {
  Evaluator* evaluator = EvaluatorOf(call);
  if (evaluator == nullptr) return Error("T1006", "A JSONata function can only be called while its expression evaluates");
  return evaluator->RunTailCalls(evaluator->ApplyLambda(*this, std::move(args), context), context);
}

// --- The evaluator ---

Evaluator::Evaluator(const EvaluateOptions& options, std::shared_ptr<const Node> root)
    : root_(std::move(root)),
      now_millis_(options.now_millis.value_or(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count())),
      random_seed_(options.random_seed),
      max_depth_(options.max_depth),
      steps_left_(options.max_steps) {}

StatusOr<Value> Evaluator::Eval(const Node& expr, const Value& input, const FramePtr& env) {
  if (depth_ >= max_depth_) {
    return Error("U1001", "Stack overflow error: the expression nests or recurses more than " +
                              std::to_string(max_depth_) + " levels deep");
  }
  if (steps_left_ == 0) return Error("U1002", "The expression took too many evaluation steps; does it loop forever?");
  --steps_left_;
  ++depth_;
  auto result = EvalNode(expr, input, env);
  --depth_;
  if (!result.ok()) return result;
  Value value = std::move(*result);
  // A value built deeper than JSON state data may be (a loop wrapping a list in a list) would
  // take the stack with it when copied out or freed.
  if (value.nesting() > kMaxValueNesting) {
    return Error("U1003", "The expression built a value nested more than " + std::to_string(kMaxValueNesting) +
                              " levels deep");
  }
  // A value that shares members can stand for far more than it holds (a list of itself, twice,
  // forty times over); copying it out or printing it would then run for ever.
  if (value.weight() > kMaxValueWeight) {
    return Error("U1004", "The expression built a value too large to use (more than " + std::to_string(kMaxValueWeight) +
                              " parts, counting a string as a part per 8 bytes)");
  }

  for (const Stage& stage : expr.predicate) {
    ASSIGN_OR_RETURN(value, EvalFilter(*stage.expr, value, env));
  }
  if (expr.type != NodeType::kPath && expr.group) {
    ASSIGN_OR_RETURN(value, EvalGroup(*expr.group, value, env, expr.position));
  }
  if (value.is_sequence() && !value.array().tuple_stream) {
    const ArrayData& data = value.array();
    const bool keep = data.keep_singleton || expr.keep_array;
    if (data.items.empty()) return Value();
    if (data.items.size() == 1 && !keep) return data.items.front();
    if (keep && !data.keep_singleton) return Value::Sequence(data.items, true);
  }
  return value;
}

StatusOr<Value> Evaluator::EvalNode(const Node& expr, const Value& input, const FramePtr& env) {
  switch (expr.type) {
    case NodeType::kPath: return EvalPath(expr, input, env);
    case NodeType::kBinary: return EvalBinary(expr, input, env);
    case NodeType::kNegate: {
      ASSIGN_OR_RETURN(Value value, Eval(*expr.expression, input, env));
      if (value.undefined()) return Value();
      if (Status s = CheckFinite(value); !s.ok()) return s;
      if (IsNumeric(value)) return Value(-value.number());
      return Error("D1002", "Cannot negate a non-numeric value: " + Stringify(value));
    }
    case NodeType::kArray: return EvalArray(expr, input, env);
    case NodeType::kObject: return EvalGroup(expr.pairs, input, env, expr.position);
    case NodeType::kName: return LookupField(input, expr.text);
    case NodeType::kString:
    case NodeType::kNumber:
    case NodeType::kValue:
    case NodeType::kRegex: return expr.literal;
    case NodeType::kWildcard: return Wildcard(input);
    case NodeType::kDescendant: return Descendants(input);
    case NodeType::kParent: {
      const Value* bound = env->Lookup(expr.slot->label);
      return bound ? *bound : Value();
    }
    case NodeType::kCondition: {
      ASSIGN_OR_RETURN(Value condition, Eval(*expr.condition, input, env));
      if (Holds(condition)) return Eval(*expr.then, input, env);
      if (expr.otherwise) return Eval(*expr.otherwise, input, env);
      return Value();
    }
    case NodeType::kBlock: {
      // A new frame limits the scope of the block's own bindings; without any, share the outer one.
      const FramePtr frame = expr.binds ? std::make_shared<Frame>(env) : env;
      Value result;
      for (const auto& item : expr.items) {
        ASSIGN_OR_RETURN(result, Eval(*item, input, frame));
      }
      return result;
    }
    case NodeType::kBind: {
      ASSIGN_OR_RETURN(Value value, Eval(*expr.rhs, input, env));
      env->Bind(expr.lhs->text, value);
      return value;
    }
    case NodeType::kVariable: {
      if (expr.text.empty()) {
        if (input.is_array() && input.array().outer_wrapper && !input.items().empty()) return input.items().front();
        return input;
      }
      const Value* bound = env->Lookup(expr.text);
      return bound ? *bound : Value();
    }
    case NodeType::kFunction:
      if (expr.thunk) {
        auto thunk = std::make_shared<Lambda>();
        thunk->body = &expr;
        thunk->input = input;
        thunk->env = env;
        thunk->thunk = true;
        thunk->root = root_;
        return Value(std::shared_ptr<const Function>(std::move(thunk)));
      }
      return EvalFunction(expr, input, env, nullptr);
    case NodeType::kLambda: {
      auto lambda = std::make_shared<Lambda>();
      lambda->parameters = expr.parameters;
      lambda->signature = expr.signature ? &*expr.signature : nullptr;
      lambda->body = expr.body.get();
      lambda->input = input;
      lambda->env = env;
      lambda->root = root_;
      return Value(std::shared_ptr<const Function>(std::move(lambda)));
    }
    case NodeType::kPartial: return EvalPartial(expr, input, env);
    case NodeType::kApply: return EvalApply(expr, input, env);
    case NodeType::kTransform:
      return Value(std::shared_ptr<const Function>(std::make_shared<Transformer>(expr, env, root_)));
    case NodeType::kSort: return EvalSort(expr, input, env);
    case NodeType::kPlaceholder:
    case NodeType::kEnd:
    case NodeType::kRawBinary:
    case NodeType::kRawObject: break;
  }
  return Error("S0206", "Unknown expression type");
}

StatusOr<Value> Evaluator::EvalBinary(const Node& expr, const Value& input, const FramePtr& env) {
  ASSIGN_OR_RETURN(Value lhs, Eval(*expr.lhs, input, env));
  const std::string& op = expr.op;
  if (op == "and" || op == "or") {
    const bool left = Holds(lhs);
    if (op == "and" && !left) return Value(false);
    if (op == "or" && left) return Value(true);
    ASSIGN_OR_RETURN(Value rhs, Eval(*expr.rhs, input, env));
    return Value(Holds(rhs));
  }
  ASSIGN_OR_RETURN(Value rhs, Eval(*expr.rhs, input, env));
  if (Status s = CheckFinite(lhs); !s.ok()) return s;
  if (Status s = CheckFinite(rhs); !s.ok()) return s;
  const char c = op[0];
  if (op.size() == 1 && (c == '+' || c == '-' || c == '*' || c == '/' || c == '%')) {
    if (!lhs.undefined() && !IsNumeric(lhs)) {
      return Error("T2001", "The left side of the \"" + op + "\" operator must evaluate to a number");
    }
    if (!rhs.undefined() && !IsNumeric(rhs)) {
      return Error("T2002", "The right side of the \"" + op + "\" operator must evaluate to a number");
    }
    if (lhs.undefined() || rhs.undefined()) return Value();
    const double a = lhs.number(), b = rhs.number();
    switch (c) {
      case '+': return Value(a + b);
      case '-': return Value(a - b);
      case '*': return Value(a * b);
      case '/': return Value(a / b);
      default: return Value(std::fmod(a, b));
    }
  }
  if (op == "=" || op == "!=") {
    if (lhs.undefined() || rhs.undefined()) return Value(false);
    return Value(DeepEqual(lhs, rhs) == (op == "="));
  }
  if (op == "<" || op == "<=" || op == ">" || op == ">=") {
    auto comparable = [](const Value& v) { return v.undefined() || v.is_string() || v.is_number(); };
    if (!comparable(lhs) || !comparable(rhs)) {
      return Error("T2010", "The expressions either side of operator \"" + op + "\" must evaluate to numeric or string values");
    }
    if (lhs.undefined() || rhs.undefined()) return Value();
    if (lhs.type() != rhs.type()) {
      return Error("T2009", "The values " + Stringify(lhs) + " and " + Stringify(rhs) + " either side of operator \"" + op +
                                "\" must be of the same data type");
    }
    int order = 0;
    if (lhs.is_number()) {
      const double a = lhs.number(), b = rhs.number();
      if (std::isnan(a) || std::isnan(b)) return Value(false);
      order = a < b ? -1 : (a > b ? 1 : 0);
    } else {
      const int cmp = lhs.string().compare(rhs.string());
      order = cmp < 0 ? -1 : (cmp > 0 ? 1 : 0);
    }
    if (op == "<") return Value(order < 0);
    if (op == "<=") return Value(order <= 0);
    if (op == ">") return Value(order > 0);
    return Value(order >= 0);
  }
  if (op == "&") {
    std::string text;
    for (const Value* side : {&lhs, &rhs}) {
      if (side->undefined()) continue;
      auto part = ToText(*side);
      if (!part.ok()) return part.status();
      text += *part;
    }
    return Value(std::move(text));
  }
  if (op == "..") {
    if (!lhs.undefined() && !lhs.is_integer()) {
      return Error("T2003", "The left side of the range operator (..) must evaluate to an integer");
    }
    if (!rhs.undefined() && !rhs.is_integer()) {
      return Error("T2004", "The right side of the range operator (..) must evaluate to an integer");
    }
    if (lhs.undefined() || rhs.undefined() || lhs.number() > rhs.number()) return Value();
    const double size = rhs.number() - lhs.number() + 1;
    if (size > 1e7) {
      return Error("D2014", "The size of the sequence allocated by the range operator (..) must not exceed 1e7. Attempted to allocate " +
                                FormatNumber(size));
    }
    if (size > static_cast<double>(steps_left_)) {
      return Error("U1002", "The expression took too many evaluation steps; does it loop forever?");
    }
    steps_left_ -= static_cast<uint64_t>(size);
    std::vector<Value> items;
    items.reserve(static_cast<size_t>(size));
    // Counted, not stepped: past 2^53 adding one to a double no longer changes it.
    const auto count = static_cast<int64_t>(size);
    for (int64_t i = 0; i < count; ++i) items.emplace_back(lhs.number() + static_cast<double>(i));
    return Value::Sequence(std::move(items));
  }
  if (op == "in") {
    if (lhs.undefined() || rhs.undefined()) return Value(false);
    if (!rhs.is_array()) return Value(StrictEquals(lhs, rhs));
    for (const Value& item : rhs.items()) {
      if (StrictEquals(lhs, item)) return Value(true);
    }
    return Value(false);
  }
  return Error("S0204", "Unknown operator: " + op);
}

StatusOr<Value> Evaluator::EvalArray(const Node& expr, const Value& input, const FramePtr& env) {
  std::vector<Value> items;
  for (const auto& item : expr.items) {
    ASSIGN_OR_RETURN(Value value, Eval(*item, input, env));
    if (value.undefined()) continue;
    if (item->type == NodeType::kArray || !value.is_array()) {
      items.push_back(std::move(value));
    } else {
      for (const Value& member : value.items()) items.push_back(member);
    }
  }
  auto data = std::make_shared<ArrayData>();
  data->items = std::move(items);
  data->constructed = expr.cons_array;
  return Value(std::shared_ptr<const ArrayData>(std::move(data)));
}

StatusOr<Value> Evaluator::EvalFunction(const Node& expr, const Value& input, const FramePtr& env, const Value* apply_to) {
  ASSIGN_OR_RETURN(Value procedure, Eval(*expr.procedure, input, env));
  if (procedure.undefined() && expr.procedure->type == NodeType::kPath &&
      expr.procedure->items.front()->type == NodeType::kName && env->Lookup(expr.procedure->items.front()->text)) {
    return Error("T1005", "Attempted to invoke a non-function. Did you mean $" + expr.procedure->items.front()->text + "?");
  }
  std::vector<Value> args;
  if (apply_to != nullptr) args.push_back(*apply_to);
  for (const auto& arg : expr.items) {
    ASSIGN_OR_RETURN(Value value, Eval(*arg, input, env));
    args.push_back(std::move(value));
  }
  return ApplyFunction(procedure, std::move(args), input);
}

StatusOr<Value> Evaluator::EvalPartial(const Node& expr, const Value& input, const FramePtr& env) {
  std::vector<std::optional<Value>> args;
  for (const auto& arg : expr.items) {
    if (arg->type == NodeType::kPlaceholder) {
      args.emplace_back(std::nullopt);
    } else {
      ASSIGN_OR_RETURN(Value value, Eval(*arg, input, env));
      args.emplace_back(std::move(value));
    }
  }
  ASSIGN_OR_RETURN(Value procedure, Eval(*expr.procedure, input, env));
  if (procedure.undefined() && expr.procedure->type == NodeType::kPath &&
      expr.procedure->items.front()->type == NodeType::kName && env->Lookup(expr.procedure->items.front()->text)) {
    return Error("T1007", "Attempted to partially apply a non-function. Did you mean $" +
                              expr.procedure->items.front()->text + "?");
  }
  if (!procedure.is_function()) return Error("T1008", "Attempted to partially apply a non-function");
  if (const auto* lambda = dynamic_cast<const Lambda*>(&procedure.function()); lambda != nullptr && !lambda->thunk) {
    auto partial = std::make_shared<Lambda>(*lambda);
    partial->env = std::make_shared<Frame>(lambda->env);
    partial->parameters.clear();
    partial->signature = nullptr;
    for (size_t i = 0; i < lambda->parameters.size(); ++i) {
      if (i < args.size() && args[i].has_value()) {
        partial->env->Bind(lambda->parameters[i], *args[i]);
      } else {
        partial->parameters.push_back(lambda->parameters[i]);
      }
    }
    return Value(std::shared_ptr<const Function>(std::move(partial)));
  }
  return Value(std::shared_ptr<const Function>(std::make_shared<PartialNative>(procedure, std::move(args))));
}

StatusOr<Value> Evaluator::EvalApply(const Node& expr, const Value& input, const FramePtr& env) {
  ASSIGN_OR_RETURN(Value lhs, Eval(*expr.lhs, input, env));
  if (expr.rhs->type == NodeType::kFunction) return EvalFunction(*expr.rhs, input, env, &lhs);
  ASSIGN_OR_RETURN(Value function, Eval(*expr.rhs, input, env));
  if (!function.is_function()) {
    return Error("T2006", "The right side of the function application operator ~> must be a function");
  }
  if (lhs.is_function()) {
    return Value(std::shared_ptr<const Function>(std::make_shared<ChainedFunction>(lhs, function)));
  }
  return ApplyFunction(function, {lhs}, Value());
}

StatusOr<Value> Evaluator::Apply(const Value& function, std::vector<Value> args) {
  return ApplyFunction(function, std::move(args), Value());
}

StatusOr<Value> Evaluator::ApplyFunction(const Value& procedure, std::vector<Value> args, const Value& input) {
  // Functions calling functions (a chain of `~>` compositions, $map's callback) nest here
  // without passing through Eval: the same depth limit holds.
  if (depth_ >= max_depth_) {
    return Error("U1001", "Stack overflow error: the expression nests or recurses more than " +
                              std::to_string(max_depth_) + " levels deep");
  }
  ++depth_;
  auto result = RunTailCalls(ApplyOnce(procedure, std::move(args), input), input);
  --depth_;
  return result;
}

StatusOr<Value> Evaluator::RunTailCalls(StatusOr<Value> first, const Value& input) {
  ASSIGN_OR_RETURN(Value result, std::move(first));
  // The trampoline: a lambda whose body ends in a call hands that call back to be made here.
  while (result.is_function()) {
    const auto* thunk = dynamic_cast<const Lambda*>(&result.function());
    if (thunk == nullptr || !thunk->thunk) break;
    if (steps_left_ == 0) return Error("U1002", "The expression took too many evaluation steps; does it loop forever?");
    --steps_left_;
    const Node& call = *thunk->body;
    ASSIGN_OR_RETURN(Value next, Eval(*call.procedure, thunk->input, thunk->env));
    std::vector<Value> next_args;
    for (const auto& arg : call.items) {
      ASSIGN_OR_RETURN(Value value, Eval(*arg, thunk->input, thunk->env));
      next_args.push_back(std::move(value));
    }
    ASSIGN_OR_RETURN(result, ApplyOnce(next, std::move(next_args), input));
  }
  return result;
}

StatusOr<Value> Evaluator::ApplyOnce(const Value& procedure, std::vector<Value> args, const Value& input) {
  if (!procedure.is_function()) return Error("T1006", "Attempted to invoke a non-function");
  if (const auto* lambda = dynamic_cast<const Lambda*>(&procedure.function()); lambda != nullptr) {
    return ApplyLambda(*lambda, std::move(args), input);
  }
  return procedure.function().Call(std::move(args), input, *this);
}

StatusOr<Value> Evaluator::ApplyLambda(const Lambda& lambda, std::vector<Value> args, const Value& input) {
  if (lambda.signature != nullptr) {
    auto validated = lambda.signature->Validate(std::move(args), input, "lambda");
    if (!validated.ok()) return validated.status();
    args = std::move(*validated);
  }
  auto frame = std::make_shared<Frame>(lambda.env);
  for (size_t i = 0; i < lambda.parameters.size(); ++i) {
    frame->Bind(lambda.parameters[i], i < args.size() ? std::move(args[i]) : Value());
  }
  return Eval(*lambda.body, lambda.input, frame);
}

StatusOr<Value> Transformer::Call(std::vector<Value> args, const Value&, CallContext& call) const {
  Evaluator* evaluator = EvaluatorOf(call);
  if (evaluator == nullptr) return Error("T1006", "A transform can only be applied while its expression evaluates");
  if (args.empty() || args.front().undefined()) return Value();
  const Value& source = args.front();
  if (!source.is_object() && !source.is_array()) {
    return Error("T0410", "Argument 1 of function transform does not match function signature");
  }
  ASSIGN_OR_RETURN(Value copy, DeepCopy(source));
  ASSIGN_OR_RETURN(Value matches, evaluator->Eval(*node_.pattern, copy, env_));
  if (matches.undefined()) return copy;
  std::vector<Value> targets = matches.is_array() ? matches.items() : std::vector<Value>{matches};
  for (const Value& match : targets) {
    ASSIGN_OR_RETURN(Value update, evaluator->Eval(*node_.update, match, env_));
    if (!update.undefined()) {
      if (!update.is_object()) {
        return Error("T2011", "The insert/update clause of the transform expression must evaluate to an object: " + Stringify(update));
      }
      if (match.is_object()) {
        // The copy is this call's own, so its objects may be changed in place.
        auto& target = const_cast<ObjectData&>(match.object());
        for (const auto& [key, value] : update.object().entries()) target.Set(key, value);
      }
    }
    if (node_.remove) {
      ASSIGN_OR_RETURN(Value deletions, evaluator->Eval(*node_.remove, match, env_));
      if (deletions.undefined()) continue;
      std::vector<Value> names = deletions.is_array() ? deletions.items() : std::vector<Value>{deletions};
      for (const Value& name : names) {
        if (!name.is_string()) {
          return Error("T2012", "The delete clause of the transform expression must evaluate to a string or array of strings: " +
                                    Stringify(deletions));
        }
      }
      if (match.is_object()) {
        auto& target = const_cast<ObjectData&>(match.object());
        ObjectData kept;
        for (const auto& [key, value] : target.entries()) {
          bool removed = false;
          for (const Value& name : names) removed = removed || name.string() == key;
          if (!removed) kept.Set(key, value);
        }
        target = std::move(kept);
      }
    }
  }
  return copy;
}

}  // namespace loam::jsonata
