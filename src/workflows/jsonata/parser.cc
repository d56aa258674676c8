// The tokenizer and the Pratt parser. Errors inside the parser unwind by a local exception that
// Parse() turns into a Status; nothing escapes this file.
#include "workflows/jsonata/parser.h"
#include "common/strings.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <regex>

#include "workflows/jsonata/regex.h"

namespace loam::jsonata {
namespace {

struct SyntaxError {
  Status status;
};

[[noreturn]] void Fail(std::string_view code, std::string_view message, size_t position) {
  throw SyntaxError{Error(code, std::string(message) + " (at position " + std::to_string(position) + ")")};
}

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

bool IsOperatorChar(char c) { return std::strchr(".[]{}(),@#;:?+-*/%|=<>^&!~", c) != nullptr && c != '\0'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }


struct Token {
  enum class Kind { kEnd, kName, kVariable, kOperator, kString, kNumber, kValue, kRegex };
  Kind kind = Kind::kEnd;
  std::string text;  // names, variables, operators, strings
  Value literal;     // numbers, true/false/null, strings, regexes
  size_t position = 0;

  // The symbol the parser dispatches on.
  std::string id() const {
    switch (kind) {
      case Kind::kEnd: return "(end)";
      case Kind::kName:
      case Kind::kVariable: return "(name)";
      case Kind::kOperator: return text;
      case Kind::kRegex: return "(regex)";
      default: return "(literal)";
    }
  }
};

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // The next token; `infix` when the previous token ended an operand, where `/` divides.
  Token Next(bool infix) {
    SkipSpaceAndComments();
    Token token;
    token.position = pos_;
    if (pos_ >= text_.size()) return token;
    const char c = text_[pos_];
    if (!infix && c == '/') {
      ++pos_;
      return Make(Token::Kind::kRegex, "", ScanRegex());
    }
    static const char* kTwoChar[] = {"..", ":=", "!=", ">=", "<=", "**", "~>"};
    for (const char* op : kTwoChar) {
      if (text_.substr(pos_, 2) == op) {
        pos_ += 2;
        return Make(Token::Kind::kOperator, op);
      }
    }
    if (IsOperatorChar(c)) {
      ++pos_;
      return Make(Token::Kind::kOperator, std::string(1, c));
    }
    if (c == '"' || c == '\'') return ScanString(c);
    if (c >= '0' && c <= '9') return ScanNumber();
    if (c == '`') {
      const size_t end = text_.find('`', pos_ + 1);
      if (end == std::string_view::npos) Fail("S0105", "Quoted property name must be terminated with a backquote (`)", text_.size());
      std::string name(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return Make(Token::Kind::kName, std::move(name));
    }
    size_t end = pos_;
    while (end < text_.size() && !IsSpace(text_[end]) && !IsOperatorChar(text_[end])) ++end;
    if (c == '$') {
      std::string name(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end;
      return Make(Token::Kind::kVariable, std::move(name));
    }
    std::string name(text_.substr(pos_, end - pos_));
    pos_ = end;
    if (name == "or" || name == "in" || name == "and") return Make(Token::Kind::kOperator, name);
    if (name == "true") return Make(Token::Kind::kValue, name, Value(true));
    if (name == "false") return Make(Token::Kind::kValue, name, Value(false));
    if (name == "null") return Make(Token::Kind::kValue, name, Value::Null());
    return Make(Token::Kind::kName, std::move(name));
  }

  size_t size() const { return text_.size(); }

 private:
  Token Make(Token::Kind kind, std::string text, Value literal = {}) {
    Token token;
    token.kind = kind;
    token.text = std::move(text);
    token.literal = std::move(literal);
    token.position = pos_;
    return token;
  }

  void SkipSpaceAndComments() {
    for (;;) {
      while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
      if (text_.substr(pos_, 2) != "/*") return;
      const size_t end = text_.find("*/", pos_ + 2);
      if (end == std::string_view::npos) Fail("S0106", "Comment has no closing tag", pos_);
      pos_ = end + 2;
    }
  }

  Token ScanString(char quote) {
    ++pos_;
    std::string out;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\\') {
        ++pos_;
        const char e = pos_ < text_.size() ? text_[pos_] : '\0';
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            uint32_t unit = 0;
            if (!HexUnit(pos_ + 1, unit)) Fail("S0104", "The escape sequence \\u must be followed by 4 hex digits", pos_);
            pos_ += 4;
            uint32_t low = 0;
            if (unit >= 0xD800 && unit < 0xDC00 && text_.substr(pos_ + 1, 2) == "\\u" && HexUnit(pos_ + 3, low) &&
                low >= 0xDC00 && low < 0xE000) {
              unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
              pos_ += 6;
            } else if (unit >= 0xD800 && unit < 0xE000) {
              unit = 0xFFFD;  // a lone surrogate has no UTF-8 form
            }
            AppendUtf8(out, unit);
            break;
          }
          default: Fail("S0103", std::string("Unsupported escape sequence: \\") + e, pos_);
        }
      } else if (c == quote) {
        ++pos_;
        Token token = Make(Token::Kind::kString, out, Value(out));
        return token;
      } else {
        out += c;
      }
      ++pos_;
    }
    Fail("S0101", "String literal must be terminated by a matching quote", pos_);
  }

  bool HexUnit(size_t at, uint32_t& unit) const {
    if (at + 4 > text_.size()) return false;
    for (size_t i = at; i < at + 4; ++i) {
      if (!std::isxdigit(static_cast<unsigned char>(text_[i]))) return false;
    }
    unit = static_cast<uint32_t>(std::stoul(std::string(text_.substr(at, 4)), nullptr, 16));
    return true;
  }

  Token ScanNumber() {
    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)? without the sign, which is an operator.
    size_t end = pos_;
    auto digits = [&] {
      const size_t from = end;
      while (end < text_.size() && std::isdigit(static_cast<unsigned char>(text_[end]))) ++end;
      return end > from;
    };
    if (text_[end] == '0') {
      ++end;
    } else {
      digits();
    }
    if (end + 1 < text_.size() && text_[end] == '.' && std::isdigit(static_cast<unsigned char>(text_[end + 1]))) {
      ++end;
      digits();
    }
    if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
      size_t save = end++;
      if (end < text_.size() && (text_[end] == '+' || text_[end] == '-')) ++end;
      if (!digits()) end = save;
    }
    const std::string literal(text_.substr(pos_, end - pos_));
    double value = 0;
    std::from_chars(literal.data(), literal.data() + literal.size(), value);
    if (!std::isfinite(value)) Fail("S0102", "Number out of range: " + literal, pos_);
    pos_ = end;
    return Make(Token::Kind::kNumber, literal, Value(value));
  }

  Value ScanRegex() {
    const size_t start = pos_;
    int depth = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '/' && depth == 0) {
        size_t backslashes = 0;
        while (pos_ >= start + backslashes + 1 && text_[pos_ - backslashes - 1] == '\\') ++backslashes;
        if (backslashes % 2 == 0) {
          const std::string pattern(text_.substr(start, pos_ - start));
          if (pattern.empty()) Fail("S0301", "Empty regular expressions are not allowed", pos_);
          ++pos_;
          const size_t flags_start = pos_;
          while (pos_ < text_.size() && (text_[pos_] == 'i' || text_[pos_] == 'm')) ++pos_;
          auto regex = Regex::Compile(pattern, text_.substr(flags_start, pos_ - flags_start));
          if (!regex.ok()) throw SyntaxError{regex.status()};
          return Value(std::shared_ptr<const Function>(*regex));
        }
      }
      const bool escaped = pos_ > 0 && text_[pos_ - 1] == '\\';
      if ((c == '(' || c == '[' || c == '{') && !escaped) ++depth;
      if ((c == ')' || c == ']' || c == '}') && !escaped) --depth;
      ++pos_;
    }
    Fail("S0302", "No terminating / in regular expression", pos_);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

NodePtr MakeNode(NodeType type, size_t position) {
  auto node = std::make_shared<Node>();
  node->type = type;
  node->position = position;
  return node;
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
    while (rbp < Lbp(current_)) {
      t = current_;
      Advance();
      left = Led(t, left);
    }
    --depth_;
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
        throw SyntaxError{Error(ErrorCode(parsed.status()), std::string(parsed.status().message()) + " (at position " +
                                                                std::to_string(signature_position) + ")")};
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

// The second pass (the reference's processAST): paths, stages, grouping, sorting, ancestry.
class PathBuilder {
 public:
  NodePtr Process(const NodePtr& expr) {
    if (++depth_ > kMaxParseDepth) Fail("S0201", "Expression nested too deeply", expr->position);
    NodePtr result = ProcessNode(expr);
    if (expr->keep_array) result->keep_array = true;
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

StatusOr<NodePtr> Parse(std::string_view text) {
  try {
    PrattParser parser(text);
    NodePtr raw = parser.ParseAll();
    PathBuilder builder;
    NodePtr result = builder.Process(raw);
    builder.CheckTopLevel(result);
    return result;
  } catch (const SyntaxError& error) {
    return error.status;
  }
}

}  // namespace loam::jsonata
