// The Pratt (top-down operator precedence) parser: tokens to the raw tree; Parse() runs it and
// the second pass (path_builder.cc). Errors inside unwind by a local exception that Parse()
// turns into a Status; nothing escapes these files.
#include "workflows/jsonata/parser.h"

#include <map>

#include "workflows/jsonata/lexer.h"
#include "workflows/jsonata/parser_internal.h"

namespace loam::jsonata {
namespace internal {
namespace {

// Binding powers of the infix operators; symbols that are only prefixes or separators bind 0.
int BindingPower(std::string_view op) {
  static const std::map<std::string, int, std::less<>> kPowers = {
      {".", 75}, {"[", 80}, {"{", 70}, {"(", 80}, {"@", 80}, {"#", 80}, {"?", 20},
      {"+", 50}, {"-", 50}, {"*", 60}, {"/", 60}, {"%", 60}, {"=", 40}, {"<", 40},
      {">", 40}, {"^", 40}, {":=", 10}, {"!=", 40}, {"<=", 40}, {">=", 40}, {"~>", 40},
      {"and", 30}, {"or", 25}, {"in", 40}, {"&", 50}};
  auto it = kPowers.find(op);
  return it == kPowers.end() ? 0 : it->second;
}

// Every symbol the parser knows; an operator token outside it is S0204.
bool KnownSymbol(std::string_view op) {
  static const char* kSymbols[] = {".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?",
                                   "+", "-", "*", "/", "%", "|", "=", "<", ">", "^", "**", "..",
                                   ":=", "!=", "<=", ">=", "~>", "and", "or", "in", "&"};
  for (const char* s : kSymbols) {
    if (op == s) return true;
  }
  return false;
}



// The first pass: tokens to a raw tree (dots, brackets and braces still operators).
class PrattParser {
 public:
  explicit PrattParser(std::string_view text) : lexer_(text) {}

  NodePtr ParseAll() {
    Advance("", false);
    NodePtr expr = Expression(0);
    if (current_.kind != Token::Kind::kEnd) Fail("S0201", "Syntax error: " + current_.text, current_.position);
    return expr;
  }

 private:
  void Advance(std::string_view expected, bool infix) {
    if (!expected.empty() && current_.id() != expected) {
      if (current_.kind == Token::Kind::kEnd) {
        Fail("S0203", "Expected " + std::string(expected) + " before end of expression", current_.position);
      }
      Fail("S0202", "Expected " + std::string(expected) + ", got " + current_.text, current_.position);
    }
    current_ = lexer_.Next(infix);
    if (current_.kind == Token::Kind::kOperator && !KnownSymbol(current_.text)) {
      Fail("S0204", "Unknown operator: " + current_.text, current_.position);
    }
  }
  void Advance(std::string_view expected = "") { Advance(expected, false); }

  int Lbp(const Token& token) const {
    return token.kind == Token::Kind::kOperator ? BindingPower(token.text) : 0;
  }

  NodePtr Expression(int rbp) {
    if (++depth_ > kMaxParseDepth) Fail("S0201", "Expression nested too deeply", current_.position);
    Token t = current_;
    Advance("", true);
    NodePtr left = Nud(t);
    int levels = 1;
    while (rbp < Lbp(current_)) {
      // Each operator applied here nests the tree one level deeper on its left.
      if (++depth_ > kMaxParseDepth) Fail("S0201", "Expression nested too deeply", current_.position);
      ++levels;
      t = current_;
      Advance();
      left = Led(t, left);
    }
    depth_ -= levels;
    return left;
  }

  NodePtr Nud(const Token& t) {
    switch (t.kind) {
      // The end as an operand: the construct around it names the problem, or the second pass does.
      case Token::Kind::kEnd: return MakeNode(NodeType::kEnd, t.position);
      case Token::Kind::kName: {
        auto node = MakeNode(NodeType::kName, t.position);
        node->text = t.text;
        return node;
      }
      case Token::Kind::kVariable: {
        auto node = MakeNode(NodeType::kVariable, t.position);
        node->text = t.text;
        return node;
      }
      case Token::Kind::kString: {
        auto node = MakeNode(NodeType::kString, t.position);
        node->text = t.text;
        node->literal = t.literal;
        return node;
      }
      case Token::Kind::kNumber:
      case Token::Kind::kValue:
      case Token::Kind::kRegex: {
        auto node = MakeNode(t.kind == Token::Kind::kNumber  ? NodeType::kNumber
                             : t.kind == Token::Kind::kValue ? NodeType::kValue
                                                              : NodeType::kRegex,
                             t.position);
        node->literal = t.literal;
        node->text = t.text;
        return node;
      }
      case Token::Kind::kOperator: break;
    }
    const std::string& op = t.text;
    if (op == "and" || op == "or" || op == "in") {
      auto node = MakeNode(NodeType::kName, t.position);
      node->text = op;
      return node;
    }
    if (op == "-") {
      auto node = MakeNode(NodeType::kNegate, t.position);
      node->expression = Expression(70);
      return node;
    }
    if (op == "*") return MakeNode(NodeType::kWildcard, t.position);
    if (op == "**") return MakeNode(NodeType::kDescendant, t.position);
    if (op == "%") return MakeNode(NodeType::kParent, t.position);
    if (op == "(") {
      auto node = MakeNode(NodeType::kBlock, t.position);
      while (current_.id() != ")") {
        node->items.push_back(Expression(0));
        if (current_.id() != ";") break;
        Advance(";");
      }
      Advance(")", true);
      return node;
    }
    if (op == "[") {
      auto node = MakeNode(NodeType::kArray, t.position);
      if (current_.id() != "]") {
        for (;;) {
          NodePtr item = Expression(0);
          if (current_.id() == "..") {
            auto range = MakeNode(NodeType::kRawBinary, current_.position);
            range->op = "..";
            range->lhs = item;
            Advance("..");
            range->rhs = Expression(0);
            item = range;
          }
          node->items.push_back(item);
          if (current_.id() != ",") break;
          Advance(",");
        }
      }
      Advance("]", true);
      return node;
    }
    if (op == "{") return ObjectPairs(nullptr, t.position);
    if (op == "|") {
      auto node = MakeNode(NodeType::kTransform, t.position);
      node->pattern = Expression(0);
      Advance("|");
      node->update = Expression(0);
      if (current_.id() == ",") {
        Advance(",");
        node->remove = Expression(0);
      }
      Advance("|");
      return node;
    }
    Fail("S0211", "The symbol " + op + " cannot be used as a unary operator", t.position);
  }

  NodePtr ObjectPairs(NodePtr left, size_t position) {
    auto node = MakeNode(NodeType::kRawObject, position);
    node->lhs = std::move(left);
    if (current_.id() != "}") {
      for (;;) {
        NodePtr name = Expression(0);
        Advance(":");
        NodePtr value = Expression(0);
        node->pairs.emplace_back(std::move(name), std::move(value));
        if (current_.id() != ",") break;
        Advance(",");
      }
    }
    Advance("}", true);
    return node;
  }

  NodePtr Led(const Token& t, NodePtr left) {
    const std::string& op = t.text;
    if (op == "(") return Call(t, std::move(left));
    if (op == "[") {
      if (current_.id() == "]") {
        // `[]` keeps a singleton result an array: flag the innermost step.
        Node* step = left.get();
        while (step->type == NodeType::kRawBinary && step->op == "[") step = step->lhs.get();
        step->keep_array = true;
        Advance("]");
        return left;
      }
      auto node = MakeNode(NodeType::kRawBinary, t.position);
      node->op = "[";
      node->lhs = std::move(left);
      node->rhs = Expression(0);
      Advance("]", true);
      return node;
    }
    if (op == "^") {
      Advance("(");
      auto node = MakeNode(NodeType::kRawBinary, t.position);
      node->op = "^";
      node->lhs = std::move(left);
      for (;;) {
        SortTerm term;
        if (current_.id() == "<") {
          Advance("<");
        } else if (current_.id() == ">") {
          term.descending = true;
          Advance(">");
        }
        term.expr = Expression(0);
        node->terms.push_back(std::move(term));
        if (current_.id() != ",") break;
        Advance(",");
      }
      Advance(")");
      return node;
    }
    if (op == "{") return ObjectPairs(std::move(left), t.position);
    if (op == ":=") {
      if (left->type != NodeType::kVariable) {
        Fail("S0212", "The left side of := must be a variable name (start with $)", left->position);
      }
      auto node = MakeNode(NodeType::kRawBinary, t.position);
      node->op = op;
      node->lhs = std::move(left);
      node->rhs = Expression(BindingPower(":=") - 1);
      return node;
    }
    if (op == "@" || op == "#") {
      auto node = MakeNode(NodeType::kRawBinary, t.position);
      node->op = op;
      node->lhs = std::move(left);
      node->rhs = Expression(BindingPower(op));
      if (node->rhs->type != NodeType::kVariable) {
        Fail("S0214", "The right side of " + op + " must be a variable name (start with $)", node->rhs->position);
      }
      return node;
    }
    if (op == "?") {
      auto node = MakeNode(NodeType::kCondition, t.position);
      node->condition = std::move(left);
      node->then = Expression(0);
      if (current_.id() == ":") {
        Advance(":");
        node->otherwise = Expression(0);
      }
      return node;
    }
    auto node = MakeNode(NodeType::kRawBinary, t.position);
    node->op = op;
    node->lhs = std::move(left);
    node->rhs = Expression(BindingPower(op));
    return node;
  }

  NodePtr Call(const Token& t, NodePtr procedure) {
    auto node = MakeNode(NodeType::kFunction, t.position);
    node->procedure = procedure;
    if (current_.id() != ")") {
      for (;;) {
        if (current_.kind == Token::Kind::kOperator && current_.text == "?") {
          node->type = NodeType::kPartial;
          node->items.push_back(MakeNode(NodeType::kPlaceholder, current_.position));
          Advance("?");
        } else {
          node->items.push_back(Expression(0));
        }
        if (current_.id() != ",") break;
        Advance(",");
      }
    }
    Advance(")", true);
    if (procedure->type != NodeType::kName || (procedure->text != "function" && procedure->text != "\u03BB")) {
      return node;
    }
    // `function($x, $y)<sig>{ body }`: a lambda.
    node->type = NodeType::kLambda;
    for (size_t i = 0; i < node->items.size(); ++i) {
      if (node->items[i]->type != NodeType::kVariable) {
        Fail("S0208", "Parameter " + std::to_string(i + 1) + " of function definition must be a variable name (start with $)",
             node->items[i]->position);
      }
      node->parameters.push_back(node->items[i]->text);
    }
    node->items.clear();
    if (current_.id() == "<") {
      const size_t signature_position = current_.position;
      int depth = 1;
      std::string signature = "<";
      while (depth > 0 && current_.id() != "{" && current_.kind != Token::Kind::kEnd) {
        Advance();
        if (current_.id() == ">") {
          --depth;
        } else if (current_.id() == "<") {
          ++depth;
        }
        signature += current_.kind == Token::Kind::kOperator || current_.kind == Token::Kind::kName ||
                             current_.kind == Token::Kind::kVariable
                         ? (current_.kind == Token::Kind::kVariable ? "$" + current_.text : current_.text)
                         : current_.text;
      }
      Advance(">");
      auto parsed = Signature::Parse(signature);
      if (!parsed.ok()) {
        const std::string code = ErrorCode(parsed.status());
        std::string message = parsed.status().message();
        if (message.rfind(code + ": ", 0) == 0) message.erase(0, code.size() + 2);
        throw SyntaxError{Error(code, message + " (at position " + std::to_string(signature_position) + ")")};
      }
      node->signature = std::move(*parsed);
    }
    Advance("{");
    node->body = Expression(0);
    Advance("}");
    return node;
  }

  static std::string ErrorCode(const Status& status) {
    const std::string& m = status.message();
    const size_t colon = m.find(':');
    return colon == std::string::npos ? "S0401" : m.substr(0, colon);
  }

  Lexer lexer_;
  Token current_;
  int depth_ = 0;
};

}  // namespace

NodePtr ParseRaw(std::string_view text) {
  PrattParser parser(text);
  return parser.ParseAll();
}

}  // namespace internal

StatusOr<NodePtr> Parse(std::string_view text) {
  try {
    return internal::BuildPaths(internal::ParseRaw(text));
  } catch (const internal::SyntaxError& error) {
    return error.status;
  }
}

}  // namespace loam::jsonata
