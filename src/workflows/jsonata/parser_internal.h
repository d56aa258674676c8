// What the two parser passes share: the local exception a syntax error unwinds by (Parse()
// turns it into a Status; nothing escapes the parser), and node construction.
#pragma once

#include <string>
#include <string_view>

#include "workflows/jsonata/ast.h"

namespace loam::jsonata::internal {

struct SyntaxError {
  Status status;
};

[[noreturn]] inline void Fail(std::string_view code, std::string_view message, size_t position) {
  throw SyntaxError{Error(code, std::string(message) + " (at position " + std::to_string(position) + ")")};
}

inline NodePtr MakeNode(NodeType type, size_t position) {
  auto node = std::make_shared<Node>();
  node->type = type;
  node->position = position;
  return node;
}

// The first pass: text to a raw tree (dots, brackets and braces still operators).
NodePtr ParseRaw(std::string_view text);
// The second pass (the reference's processAST): paths, stages, grouping, sorting, ancestry.
NodePtr BuildPaths(const NodePtr& raw);

}  // namespace loam::jsonata::internal
