// JSONata's grammar: a tokenizer and a Pratt (top-down operator precedence) parser, followed by
// the pass that turns operator chains into path steps, as the reference implementation does.
#pragma once

#include <string_view>

#include "workflows/jsonata/ast.h"

namespace loam::jsonata {

// The processed tree, or an S0xxx error with the position of the problem. Nesting deeper than
// kMaxParseDepth is refused rather than exhausting the stack.
StatusOr<NodePtr> Parse(std::string_view text);

inline constexpr int kMaxParseDepth = 400;

}  // namespace loam::jsonata
