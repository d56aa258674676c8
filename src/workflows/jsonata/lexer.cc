// The tokenizer: the reference implementation's rules, byte by byte over UTF-8 text.
#include "workflows/jsonata/lexer.h"

#include <cctype>
#include <cstdlib>
#include <cmath>
#include <cstring>

#include "common/strings.h"
#include "workflows/jsonata/parser_internal.h"
#include "workflows/jsonata/regex.h"

namespace loam::jsonata::internal {
namespace {

bool IsOperatorChar(char c) { return std::strchr(".[]{}(),@#;:?+-*/%|=<>^&!~", c) != nullptr && c != '\0'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }

}  // namespace

Token Lexer::Next(bool infix) {
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

Token Lexer::Make(Token::Kind kind, std::string text, Value literal) {
  Token token;
  token.kind = kind;
  token.text = std::move(text);
  token.literal = std::move(literal);
  token.position = pos_;
  return token;
}

void Lexer::SkipSpaceAndComments() {
  for (;;) {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
    if (text_.substr(pos_, 2) != "/*") return;
    const size_t end = text_.find("*/", pos_ + 2);
    if (end == std::string_view::npos) Fail("S0106", "Comment has no closing tag", pos_);
    pos_ = end + 2;
  }
}

Token Lexer::ScanString(char quote) {
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

bool Lexer::HexUnit(size_t at, uint32_t& unit) const {
  if (at + 4 > text_.size()) return false;
  for (size_t i = at; i < at + 4; ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(text_[i]))) return false;
  }
  unit = static_cast<uint32_t>(std::stoul(std::string(text_.substr(at, 4)), nullptr, 16));
  return true;
}

Token Lexer::ScanNumber() {
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
  // strtod, as JavaScript's parseFloat: too large is infinite (refused), too small is 0.
  const double value = std::strtod(literal.c_str(), nullptr);
  if (!std::isfinite(value)) Fail("S0102", "Number out of range: " + literal, pos_);
  pos_ = end;
  return Make(Token::Kind::kNumber, literal, Value(value));
}

Value Lexer::ScanRegex() {
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

}  // namespace loam::jsonata::internal
