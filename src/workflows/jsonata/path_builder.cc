// The parser's second pass, the reference implementation's processAST: `a.b[c]` chains become
// path steps with their stages, `{...}` after a step a group-by, `^(...)` a sort step, `@` and `#`
// bindings tuple steps, and each `%` is resolved to the step whose input it stands for.
#include "workflows/jsonata/parser.h"
#include "workflows/jsonata/parser_internal.h"

namespace loam::jsonata::internal {
namespace {

class PathBuilder {
 public:
  NodePtr Process(const NodePtr& expr) {
    if (++depth_ > kMaxParseDepth) Fail("S0201", "Expression nested too deeply", expr->position);
    NodePtr result = ProcessNode(expr);
    if (expr->keep_array) result->keep_array = true;
    result->constant = Constant(*result);
    --depth_;
    return result;
  }

  void CheckTopLevel(const NodePtr& expr) const {
    if (expr->type == NodeType::kParent || !expr->seeking_parent.empty()) {
      Fail("S0217", "The object representing the 'parent' cannot be derived from this expression", expr->position);
    }
  }

 private:
  static NodePtr AsPath(NodePtr node) {
    if (node->type == NodeType::kPath) return node;
    auto path = MakeNode(NodeType::kPath, node->position);
    path->items.push_back(std::move(node));
    return path;
  }

  NodePtr ProcessNode(const NodePtr& expr) {
    switch (expr->type) {
      case NodeType::kRawBinary: return ProcessBinary(expr);
      case NodeType::kArray: {
        auto result = MakeNode(NodeType::kArray, expr->position);
        for (const auto& item : expr->items) {
          result->items.push_back(Process(item));
          PushAncestry(*result, *result->items.back());
        }
        return result;
      }
      case NodeType::kRawObject: {
        if (expr->lhs) return ProcessGroup(expr);
        auto result = MakeNode(NodeType::kObject, expr->position);
        for (const auto& [name, value] : expr->pairs) {
          auto key = Process(name);
          PushAncestry(*result, *key);
          auto val = Process(value);
          PushAncestry(*result, *val);
          result->pairs.emplace_back(std::move(key), std::move(val));
        }
        return result;
      }
      case NodeType::kNegate: {
        auto result = MakeNode(NodeType::kNegate, expr->position);
        result->expression = Process(expr->expression);
        if (result->expression->type == NodeType::kNumber) {
          auto folded = result->expression;
          folded->literal = Value(-folded->literal.number());
          return folded;
        }
        PushAncestry(*result, *result->expression);
        return result;
      }
      case NodeType::kFunction:
      case NodeType::kPartial: {
        auto result = MakeNode(expr->type, expr->position);
        for (const auto& arg : expr->items) {
          result->items.push_back(Process(arg));
          PushAncestry(*result, *result->items.back());
        }
        result->procedure = Process(expr->procedure);
        return result;
      }
      case NodeType::kLambda: {
        auto result = MakeNode(NodeType::kLambda, expr->position);
        result->parameters = expr->parameters;
        result->signature = expr->signature;
        result->body = Process(expr->body);
        MarkTailCalls(*result->body);
        return result;
      }
      case NodeType::kCondition: {
        auto result = MakeNode(NodeType::kCondition, expr->position);
        result->condition = Process(expr->condition);
        PushAncestry(*result, *result->condition);
        result->then = Process(expr->then);
        PushAncestry(*result, *result->then);
        if (expr->otherwise) {
          result->otherwise = Process(expr->otherwise);
          PushAncestry(*result, *result->otherwise);
        }
        return result;
      }
      case NodeType::kTransform: {
        auto result = MakeNode(NodeType::kTransform, expr->position);
        result->pattern = Process(expr->pattern);
        result->update = Process(expr->update);
        if (expr->remove) result->remove = Process(expr->remove);
        return result;
      }
      case NodeType::kBlock: {
        auto result = MakeNode(NodeType::kBlock, expr->position);
        for (const auto& item : expr->items) {
          auto part = Process(item);
          PushAncestry(*result, *part);
          if (part->cons_array || (part->type == NodeType::kPath && part->items.front()->cons_array)) {
            result->cons_array = true;
          }
          result->items.push_back(std::move(part));
        }
        for (const auto& item : result->items) result->binds = result->binds || Binds(*item);
        return result;
      }
      case NodeType::kName: {
        auto path = AsPath(expr);
        if (expr->keep_array) path->keep_singleton_array = true;
        return path;
      }
      case NodeType::kParent: {
        auto result = MakeNode(NodeType::kParent, expr->position);
        result->slot = std::make_shared<AncestorSlot>();
        result->slot->label = "!" + std::to_string(ancestor_label_++);
        result->slot->level = 1;
        result->slot->index = ancestry_.size();
        ancestry_.push_back(result->slot);
        return result;
      }
      case NodeType::kEnd: Fail("S0207", "Unexpected end of expression", expr->position);
      default: return expr;  // literals, variables, wildcards, placeholders
    }
  }

  NodePtr ProcessBinary(const NodePtr& expr) {
    const std::string& op = expr->op;
    if (op == ".") {
      NodePtr lstep = Process(expr->lhs);
      NodePtr result = AsPath(lstep);
      if (lstep->type == NodeType::kParent) result->seeking_parent = {lstep->slot};
      NodePtr rest = Process(expr->rhs);
      if (rest->type == NodeType::kPath) {
        for (auto& step : rest->items) result->items.push_back(step);
      } else {
        if (!rest->predicate.empty()) {
          rest->stages = std::move(rest->predicate);
          rest->predicate.clear();
        }
        result->items.push_back(rest);
      }
      for (auto& step : result->items) {
        if (step->type == NodeType::kNumber || step->type == NodeType::kValue) {
          Fail("S0213", "The literal value " + step->text + " cannot be used as a step within a path expression", step->position);
        }
        if (step->type == NodeType::kString) step->type = NodeType::kName;
        if (step->keep_array) result->keep_singleton_array = true;
      }
      if (result->items.front()->type == NodeType::kArray) result->items.front()->cons_array = true;
      if (result->items.back()->type == NodeType::kArray) result->items.back()->cons_array = true;
      ResolveAncestry(*result);
      return result;
    }
    if (op == "[") {
      NodePtr result = Process(expr->lhs);
      Node* step = result.get();
      bool stages = false;
      if (result->type == NodeType::kPath) {
        step = result->items.back().get();
        stages = true;
      }
      if (step->group) Fail("S0209", "A predicate cannot follow a grouping expression in a step", expr->position);
      NodePtr predicate = Process(expr->rhs);
      if (!predicate->seeking_parent.empty()) {
        for (auto& slot : predicate->seeking_parent) {
          if (slot->level == 1) {
            SeekParent(*step, slot);
          } else {
            --slot->level;
          }
        }
        PushAncestry(*step, *predicate);
      }
      Stage stage;
      stage.expr = std::move(predicate);
      (stages ? step->stages : step->predicate).push_back(std::move(stage));
      return result;
    }
    if (op == "^") {
      NodePtr result = AsPath(Process(expr->lhs));
      auto sort = MakeNode(NodeType::kSort, expr->position);
      for (const auto& term : expr->terms) {
        SortTerm processed{term.descending, Process(term.expr)};
        PushAncestry(*sort, *processed.expr);
        sort->terms.push_back(std::move(processed));
      }
      result->items.push_back(std::move(sort));
      ResolveAncestry(*result);
      return result;
    }
    if (op == ":=") {
      auto result = MakeNode(NodeType::kBind, expr->position);
      result->lhs = Process(expr->lhs);
      result->rhs = Process(expr->rhs);
      PushAncestry(*result, *result->rhs);
      return result;
    }
    if (op == "@") {
      NodePtr result = Process(expr->lhs);
      Node* step = result->type == NodeType::kPath ? result->items.back().get() : result.get();
      if (!step->stages.empty() || !step->predicate.empty()) {
        Fail("S0215", "A context variable binding must precede any predicates on a step", expr->position);
      }
      if (step->type == NodeType::kSort) {
        Fail("S0216", "A context variable binding must precede the 'order-by' clause on a step", expr->position);
      }
      if (expr->keep_array) step->keep_array = true;
      step->focus = expr->rhs->text;
      step->tuple = true;
      return result;
    }
    if (op == "#") {
      NodePtr result = Process(expr->lhs);
      Node* step = result.get();
      if (result->type == NodeType::kPath) {
        step = result->items.back().get();
      } else {
        result = AsPath(result);
        if (!step->predicate.empty()) {
          step->stages = std::move(step->predicate);
          step->predicate.clear();
        }
      }
      if (step->stages.empty()) {
        step->index = expr->rhs->text;
      } else {
        Stage stage;
        stage.kind = Stage::Kind::kIndex;
        stage.variable = expr->rhs->text;
        step->stages.push_back(std::move(stage));
      }
      step->tuple = true;
      return result;
    }
    if (op == "~>") {
      auto result = MakeNode(NodeType::kApply, expr->position);
      result->op = op;
      result->lhs = Process(expr->lhs);
      result->rhs = Process(expr->rhs);
      result->keep_array = result->lhs->keep_array || result->rhs->keep_array;
      return result;
    }
    auto result = MakeNode(NodeType::kBinary, expr->position);
    result->op = op;
    result->lhs = Process(expr->lhs);
    result->rhs = Process(expr->rhs);
    PushAncestry(*result, *result->lhs);
    PushAncestry(*result, *result->rhs);
    return result;
  }

  NodePtr ProcessGroup(const NodePtr& expr) {
    NodePtr result = Process(expr->lhs);
    if (result->group) Fail("S0210", "Each step can only have one grouping expression", expr->position);
    Pairs pairs;
    for (const auto& [name, value] : expr->pairs) pairs.emplace_back(Process(name), Process(value));
    result->group = std::move(pairs);
    return result;
  }

  // Literals, and arrays, ranges, arithmetic and comparisons of constants: a predicate like
  // `[[0..9]]` is then evaluated once per filter, not once per item.
  static bool Constant(const Node& node) {
    if (!node.predicate.empty() || !node.stages.empty() || node.group || node.keep_array) return false;
    switch (node.type) {
      case NodeType::kString:
      case NodeType::kNumber:
      case NodeType::kValue: return true;
      case NodeType::kNegate: return node.expression->constant;
      case NodeType::kBinary: return node.lhs->constant && node.rhs->constant;
      case NodeType::kArray:
        for (const auto& item : node.items) {
          if (!item->constant) return false;
        }
        return true;
      default: return false;
    }
  }

  // Whether evaluating `node` binds a variable in the frame it runs in: a `:=` anywhere but inside
  // a block or lambda of its own. Blocks that bind nothing share their enclosing frame.
  static bool Binds(const Node& node) {
    if (node.type == NodeType::kBind) return true;
    if (node.type == NodeType::kBlock || node.type == NodeType::kLambda) return false;
    for (const NodePtr* child : {&node.lhs, &node.rhs, &node.expression, &node.condition, &node.then, &node.otherwise,
                                 &node.procedure, &node.pattern, &node.update, &node.remove}) {
      if (*child && Binds(**child)) return true;
    }
    for (const auto& item : node.items) {
      if (Binds(*item)) return true;
    }
    for (const auto& [key, value] : node.pairs) {
      if (Binds(*key) || Binds(*value)) return true;
    }
    for (const auto& stages : {&node.stages, &node.predicate}) {
      for (const auto& stage : *stages) {
        if (stage.expr && Binds(*stage.expr)) return true;
      }
    }
    if (node.group) {
      for (const auto& [key, value] : *node.group) {
        if (Binds(*key) || Binds(*value)) return true;
      }
    }
    for (const auto& term : node.terms) {
      if (Binds(*term.expr)) return true;
    }
    return false;
  }

  // Tail calls in a lambda body run in the caller's loop, so recursion in tail position does not
  // grow the stack.
  static void MarkTailCalls(Node& body) {
    if (body.type == NodeType::kFunction && body.predicate.empty()) {
      body.thunk = true;
    } else if (body.type == NodeType::kCondition) {
      MarkTailCalls(*body.then);
      if (body.otherwise) MarkTailCalls(*body.otherwise);
    } else if (body.type == NodeType::kBlock && !body.items.empty()) {
      MarkTailCalls(*body.items.back());
    }
  }

  // --- The parent operator: which step's input a `%` stands for. ---
  void SeekParent(Node& node, std::shared_ptr<AncestorSlot>& slot) {
    switch (node.type) {
      case NodeType::kName:
      case NodeType::kWildcard:
        if (--slot->level == 0) {
          if (node.ancestor) {
            ancestry_[slot->index]->label = node.ancestor->label;
          }
          node.ancestor = slot;
          node.tuple = true;
        }
        break;
      case NodeType::kParent: ++slot->level; break;
      case NodeType::kBlock:
        if (!node.items.empty()) {
          node.tuple = true;
          SeekParent(*node.items.back(), slot);
        }
        break;
      case NodeType::kPath: {
        node.tuple = true;
        int index = static_cast<int>(node.items.size()) - 1;
        SeekParent(*node.items[index--], slot);
        while (slot->level > 0 && index >= 0) SeekParent(*node.items[index--], slot);
        break;
      }
      default:
        Fail("S0217", "The object representing the 'parent' cannot be derived from this expression", node.position);
    }
  }

  static void PushAncestry(Node& result, Node& value) {
    if (value.seeking_parent.empty() && value.type != NodeType::kParent) return;
    for (auto& slot : value.seeking_parent) result.seeking_parent.push_back(slot);
    if (value.type == NodeType::kParent) result.seeking_parent.push_back(value.slot);
  }

  void ResolveAncestry(Node& path) {
    Node& last = *path.items.back();
    std::vector<std::shared_ptr<AncestorSlot>> slots = last.seeking_parent;
    if (last.type == NodeType::kParent) slots.push_back(last.slot);
    for (auto slot : slots) {
      int index = static_cast<int>(path.items.size()) - 2;
      while (slot->level > 0) {
        if (index < 0) {
          path.seeking_parent.push_back(slot);
          break;
        }
        Node* step = path.items[index--].get();
        while (index >= 0 && !step->focus.empty() && !path.items[index]->focus.empty()) {
          step = path.items[index--].get();
        }
        SeekParent(*step, slot);
      }
    }
  }

  std::vector<std::shared_ptr<AncestorSlot>> ancestry_;
  int ancestor_label_ = 0;
  int depth_ = 0;
};

}  // namespace

NodePtr BuildPaths(const NodePtr& raw) {
  PathBuilder builder;
  NodePtr result = builder.Process(raw);
  builder.CheckTopLevel(result);
  return result;
}

}  // namespace loam::jsonata::internal
