// The syntax tree of a JSONata expression after the parser's second pass, which turns `a.b[c]`
// chains into path steps with their stages, as the reference implementation's processAST does.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "workflows/jsonata/signature.h"
#include "workflows/jsonata/value.h"

namespace loam::jsonata {

struct Node;
using NodePtr = std::shared_ptr<Node>;

enum class NodeType {
  // Leaves.
  kString, kNumber, kValue /* true/false/null */, kRegex, kName, kVariable, kWildcard,
  kDescendant, kParent, kPlaceholder /* `?` in a partial application */,
  // Operators and constructs.
  kPath, kBinary, kNegate, kArray, kObject, kCondition, kBlock, kBind, kFunction, kPartial,
  kLambda, kApply, kTransform, kSort,
  // Only between the two parser passes.
  kRawBinary, kRawObject /* `{` unary or group-by */, kEnd /* the end, where an operand was due */,
};

struct Stage {
  enum class Kind { kFilter, kIndex };
  Kind kind = Kind::kFilter;
  NodePtr expr;           // kFilter
  std::string variable;   // kIndex: the `#$i` name
};

struct SortTerm {
  bool descending = false;
  NodePtr expr;
};

using Pairs = std::vector<std::pair<NodePtr, NodePtr>>;

// An ancestor slot for the parent operator `%`: resolved by the parser to the step whose input
// the `%` refers to; that step binds the label in the tuple stream.
struct AncestorSlot {
  std::string label;
  int level = 1;
  size_t index = 0;
};

struct Node {
  NodeType type = NodeType::kValue;
  size_t position = 0;
  std::string op;       // kBinary/kRawBinary operator; kPath unused
  std::string text;     // kName, kVariable, kString
  Value literal;        // kString, kNumber, kValue, kRegex

  NodePtr lhs, rhs;                 // kBinary, kBind, kApply
  NodePtr expression;               // kNegate
  NodePtr condition, then, otherwise;  // kCondition
  NodePtr procedure;                // kFunction, kPartial
  NodePtr body;                     // kLambda
  NodePtr pattern, update, remove;  // kTransform
  std::vector<NodePtr> items;       // kArray items, kBlock expressions, call arguments, path steps
  Pairs pairs;                      // kObject
  std::vector<std::string> parameters;  // kLambda
  std::optional<Signature> signature;   // kLambda
  std::vector<SortTerm> terms;          // kSort

  // Stages on a step or an expression: predicates `[...]` and index bindings `#$i`.
  std::vector<Stage> predicate;  // a non-step expression's filters
  std::vector<Stage> stages;     // a path step's filters and index bindings
  std::optional<Pairs> group;    // group-by `{...}` after a step or an expression

  bool keep_array = false;            // `[]` on a step
  bool keep_singleton_array = false;  // a path with a `[]` step
  bool cons_array = false;            // an array constructor as a path's first/last step
  bool tuple = false;                 // the step binds `@`, `#` or is an ancestor
  bool thunk = false;                 // a tail call in a lambda body
  bool binds = false;                 // a block that binds variables (`:=`) of its own
  bool constant = false;              // literals and operators on them only: the same value anywhere
  std::string focus;                  // `@$v`
  std::string index;                  // `#$i`
  std::shared_ptr<AncestorSlot> ancestor;  // a step a `%` refers back to
  std::shared_ptr<AncestorSlot> slot;      // kParent
  std::vector<std::shared_ptr<AncestorSlot>> seeking_parent;  // `%`s below, still unresolved
};

}  // namespace loam::jsonata
