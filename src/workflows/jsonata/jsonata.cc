#include "workflows/jsonata/jsonata.h"

#include <set>
#include <unordered_map>

#include "workflows/jsonata/evaluator.h"
#include "workflows/jsonata/parser.h"

namespace loam::jsonata {
namespace {

void CollectVariables(const Node& node, std::set<std::string>& read, std::set<std::string>& bound) {
  if (node.type == NodeType::kVariable) read.insert(node.text);
  // `$sum(...)`: a library function called by name is not a variable the expression reads.
  if ((node.type == NodeType::kFunction || node.type == NodeType::kPartial) && node.procedure &&
      node.procedure->type == NodeType::kVariable && LibraryFunction(node.procedure->text) != nullptr) {
    for (const auto& item : node.items) CollectVariables(*item, read, bound);
    return;
  }
  if (node.type == NodeType::kBind && node.lhs) bound.insert(node.lhs->text);
  for (const auto& p : node.parameters) bound.insert(p);
  for (const auto& stage : node.stages) {
    if (stage.expr) CollectVariables(*stage.expr, read, bound);
    if (!stage.variable.empty()) bound.insert(stage.variable);
  }
  for (const auto& stage : node.predicate) {
    if (stage.expr) CollectVariables(*stage.expr, read, bound);
  }
  if (!node.focus.empty()) bound.insert(node.focus);
  if (!node.index.empty()) bound.insert(node.index);
  for (const NodePtr* child : {&node.lhs, &node.rhs, &node.expression, &node.condition, &node.then, &node.otherwise,
                               &node.procedure, &node.body, &node.pattern, &node.update, &node.remove}) {
    if (*child) CollectVariables(**child, read, bound);
  }
  for (const auto& item : node.items) CollectVariables(*item, read, bound);
  for (const auto& [key, value] : node.pairs) {
    CollectVariables(*key, read, bound);
    CollectVariables(*value, read, bound);
  }
  if (node.group) {
    for (const auto& [key, value] : *node.group) {
      CollectVariables(*key, read, bound);
      CollectVariables(*value, read, bound);
    }
  }
  for (const auto& term : node.terms) CollectVariables(*term.expr, read, bound);
}

}  // namespace

StatusOr<Expression> Expression::Compile(std::string_view text) {
  auto root = Parse(text);
  if (!root.ok()) return root.status();
  Expression expression;
  expression.root_ = std::move(*root);
  std::set<std::string> read, bound;
  CollectVariables(*expression.root_, read, bound);
  for (const auto& name : read) {
    if (!name.empty() && name != "$" && !bound.count(name)) expression.free_variables_.push_back(name);
  }
  return expression;
}

StatusOr<Value> Expression::Evaluate(const Value& input, const Bindings& bindings, const EvaluateOptions& options) const {
  Evaluator evaluator(options, root_);
  auto env = std::make_shared<Frame>(nullptr);
  for (const auto& [name, value] : bindings) env->Bind(name, value);
  env->Bind("$", input);  // `$$`, the root of the input
  Value focus = input;
  if (input.is_array() && !input.is_sequence()) {
    // An input array is one input, not a sequence of many.
    auto wrapper = std::make_shared<ArrayData>();
    wrapper->items.push_back(input);
    wrapper->sequence = true;
    wrapper->outer_wrapper = true;
    focus = Value(std::shared_ptr<const ArrayData>(std::move(wrapper)));
  }
  return evaluator.Eval(*root_, focus, env);
}


StatusOr<std::shared_ptr<const Expression>> CachedExpression(std::string_view text) {
  thread_local std::unordered_map<std::string, std::shared_ptr<const Expression>> cache;
  thread_local size_t cached_bytes = 0;
  if (auto it = cache.find(std::string(text)); it != cache.end()) return it->second;
  auto compiled = Expression::Compile(text);
  if (!compiled.ok()) return compiled.status();
  // A bound, not a policy: definitions hold few expressions, but one may be long.
  if (cache.size() >= 2048 || cached_bytes > (16u << 20)) {
    cache.clear();
    cached_bytes = 0;
  }
  cached_bytes += text.size();
  auto shared = std::make_shared<const Expression>(std::move(*compiled));
  cache.emplace(std::string(text), shared);
  return shared;
}


}  // namespace loam::jsonata
