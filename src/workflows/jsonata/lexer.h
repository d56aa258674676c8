// JSONata's tokens: names, `$variables`, operators, string and number literals, regular
// expressions, with the reference tokenizer's rules (comments, escapes, backquoted names).
#pragma once

#include <string>
#include <string_view>

#include "workflows/jsonata/value.h"

namespace loam::jsonata::internal {

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

// Reads tokens one at a time, as the parser asks for them.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}
  // The next token; `infix` when the previous token ended an operand, where `/` divides.
  Token Next(bool infix);

 private:
  Token Make(Token::Kind kind, std::string text, Value literal = {});
  void SkipSpaceAndComments();
  Token ScanString(char quote);
  bool HexUnit(size_t at, uint32_t& unit) const;
  Token ScanNumber();
  Value ScanRegex();

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace loam::jsonata::internal
