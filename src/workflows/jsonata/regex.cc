// JavaScript regular expressions on RE2. The JavaScript pattern is translated into RE2's syntax
// where the two differ (escapes, `.`, `\s`, named groups, literal braces, empty classes), and
// what RE2 cannot run in linear time (backreferences, lookaround) is refused when the regex is
// compiled, with error S0303.
#include "workflows/jsonata/regex.h"

#include <re2/re2.h>

#include <cstdio>
#include <utility>

namespace loam::jsonata {

namespace {

constexpr std::string_view kCompileError = "S0303";

// JavaScript's `\s` (WhiteSpace and LineTerminator) is wider than RE2's ASCII `\s`; these are
// its ranges and their complement, written to go inside a character class.
constexpr std::string_view kSpaceRanges =
    "\\x{9}-\\x{d}\\x{20}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"
    "\\x{205f}\\x{3000}\\x{feff}";
constexpr std::string_view kNonSpaceRanges =
    "\\x{0}-\\x{8}\\x{e}-\\x{1f}\\x{21}-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}"
    "\\x{200b}-\\x{2027}\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}"
    "\\x{3001}-\\x{fefe}\\x{ff00}-\\x{10ffff}";
// JavaScript's `.` stops at every line terminator, RE2's only at \n.
constexpr std::string_view kAnyButLineTerminator = "[^\\n\\r\\x{2028}\\x{2029}]";
constexpr std::string_view kAnything = "[\\x{0}-\\x{10ffff}]";
constexpr std::string_view kNothing = "[^\\x{0}-\\x{10ffff}]";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOctal(char c) { return c >= '0' && c <= '7'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Literal(char32_t code_point) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "\\x{%x}", static_cast<unsigned>(code_point));
  return buffer;
}

// Translates one JavaScript pattern (no `u` flag, Annex B's web-compatible grammar) to RE2.
class Translator {
 public:
  explicit Translator(std::string_view pattern) : in_(pattern) {}

  StatusOr<std::string> Run() {
    CountGroups();
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      Status status;
      switch (c) {
        case '\\': status = Escape(); break;
        case '[': status = Class(); break;
        case '(': status = GroupOpen(); break;
        case '.': out_ += kAnyButLineTerminator; ++pos_; break;
        case '{': Brace(); break;
        case '}': out_ += "\\}"; ++pos_; break;
        case ']': out_ += "\\]"; ++pos_; break;
        default: out_ += c; ++pos_; break;  // ^ $ | ) * + ? and literals mean the same
      }
      if (!status.ok()) return status;
    }
    return out_;
  }

 private:
  // The escape or class atom read inside a character class.
  struct ClassAtom {
    std::string_view class_escape;  // \d, \s...: RE2 text for a set; empty for one character
    char32_t code_point = 0;
  };

  Status Fail(std::string_view why) const {
    return Error(kCompileError, "Invalid regular expression /" + std::string(in_) + "/: " +
                                    std::string(why));
  }

  bool At(size_t i, char c) const { return i < in_.size() && in_[i] == c; }

  // `\N` is a backreference only when the pattern has N groups, so count them first.
  void CountGroups() {
    for (size_t i = 0; i < in_.size(); ++i) {
      if (in_[i] == '\\') {
        ++i;
      } else if (in_[i] == '[') {
        for (++i; i < in_.size() && in_[i] != ']'; ++i) {
          if (in_[i] == '\\') ++i;
        }
      } else if (in_[i] == '(') {
        if (!At(i + 1, '?')) {
          ++groups_;
        } else if (At(i + 2, '<') && !At(i + 3, '=') && !At(i + 3, '!')) {
          ++groups_;
          named_groups_ = true;
        }
      }
    }
  }

  // The code point starting at pos_ (UTF-8), consumed.
  char32_t NextCodePoint() {
    auto byte = [&](size_t i) { return static_cast<unsigned char>(in_[i]); };
    unsigned char lead = byte(pos_);
    size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (pos_ + length > in_.size()) length = 1;
    char32_t code_point = length == 1 ? lead
                          : length == 2 ? lead & 0x1F
                          : length == 3 ? lead & 0x0F
                                        : lead & 0x07;
    for (size_t i = 1; i < length; ++i) code_point = (code_point << 6) | (byte(pos_ + i) & 0x3F);
    pos_ += length;
    return code_point;
  }

  // Reads `count` hex digits at `at`; -1 when they are not all there.
  long HexAt(size_t at, size_t count) const {
    if (at + count > in_.size()) return -1;
    long value = 0;
    for (size_t i = 0; i < count; ++i) {
      int digit = HexValue(in_[at + i]);
      if (digit < 0) return -1;
      value = value * 16 + digit;
    }
    return value;
  }

  // A legacy octal escape (\0, \12, \377) starting at pos_, consumed.
  char32_t Octal() {
    char32_t value = in_[pos_++] - '0';
    bool three_digits = value <= 3;
    if (pos_ < in_.size() && IsOctal(in_[pos_])) {
      value = value * 8 + (in_[pos_++] - '0');
      if (three_digits && pos_ < in_.size() && IsOctal(in_[pos_])) {
        value = value * 8 + (in_[pos_++] - '0');
      }
    }
    return value;
  }

  // The character a CharacterEscape denotes, with pos_ just past the backslash. The escapes
  // that are not sets, assertions or backreferences read the same in and out of a class.
  char32_t CharacterEscape(bool in_class) {
    char c = in_[pos_];
    switch (c) {
      case 't': ++pos_; return '\t';
      case 'n': ++pos_; return '\n';
      case 'v': ++pos_; return '\v';
      case 'f': ++pos_; return '\f';
      case 'r': ++pos_; return '\r';
      case 'c': {
        char next = pos_ + 1 < in_.size() ? in_[pos_ + 1] : '\0';
        if (IsAsciiLetter(next) || (in_class && (IsDigit(next) || next == '_'))) {
          pos_ += 2;
          return static_cast<char32_t>(next) % 32;
        }
        return '\\';  // `\c` with no control letter is a backslash; the `c` stays to be read
      }
      case 'x': {
        long value = HexAt(pos_ + 1, 2);
        if (value < 0) { ++pos_; return 'x'; }
        pos_ += 3;
        return static_cast<char32_t>(value);
      }
      case 'u': {
        long value = HexAt(pos_ + 1, 4);
        if (value < 0) { ++pos_; return 'u'; }  // `\u{...}` too: a `u` and then a quantifier
        pos_ += 5;
        // A surrogate pair written as two escapes is one character in UTF-8.
        if (value >= 0xD800 && value <= 0xDBFF && At(pos_, '\\') && At(pos_ + 1, 'u')) {
          long low = HexAt(pos_ + 2, 4);
          if (low >= 0xDC00 && low <= 0xDFFF) {
            pos_ += 6;
            return static_cast<char32_t>(0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00));
          }
        }
        return static_cast<char32_t>(value);
      }
      default:
        if (IsOctal(c)) return Octal();
        return NextCodePoint();  // identity escape: `\/`, `\.`, `\e` (an `e`), `\8`
    }
  }

  Status Escape() {
    ++pos_;  // the backslash
    if (pos_ >= in_.size()) return Fail("\\ at end of pattern");
    char c = in_[pos_];
    switch (c) {
      case 'd': case 'D': case 'w': case 'W': case 'b': case 'B':
        out_ += '\\';
        out_ += c;
        ++pos_;
        return Status::Ok();
      case 's':
      case 'S':
        out_ += '[';
        out_ += c == 's' ? kSpaceRanges : kNonSpaceRanges;
        out_ += ']';
        ++pos_;
        return Status::Ok();
      case 'k':
        if (named_groups_) return Fail("backreferences (\\k<name>) are not supported");
        break;
      case '0':
        if (pos_ + 1 >= in_.size() || !IsDigit(in_[pos_ + 1])) {
          ++pos_;
          out_ += Literal(0);
          return Status::Ok();
        }
        break;
      default:
        if (c >= '1' && c <= '9') {
          size_t end = pos_;
          long number = 0;
          while (end < in_.size() && IsDigit(in_[end]) && number <= groups_) {
            number = number * 10 + (in_[end++] - '0');
          }
          if (number <= groups_) return Fail("backreferences (\\" + std::to_string(number) +
                                              ") are not supported");
        }
        break;
    }
    out_ += Literal(CharacterEscape(false));
    return Status::Ok();
  }

  StatusOr<ClassAtom> ReadClassAtom() {
    ClassAtom atom;
    if (in_[pos_] != '\\') {
      atom.code_point = NextCodePoint();
      return atom;
    }
    ++pos_;
    if (pos_ >= in_.size()) return Fail("\\ at end of pattern");
    char c = in_[pos_];
    switch (c) {
      case 'd': atom.class_escape = "\\d"; break;
      case 'D': atom.class_escape = "\\D"; break;
      case 'w': atom.class_escape = "\\w"; break;
      case 'W': atom.class_escape = "\\W"; break;
      case 's': atom.class_escape = kSpaceRanges; break;
      case 'S': atom.class_escape = kNonSpaceRanges; break;
      case 'b': atom.code_point = '\b'; break;
      case '-': atom.code_point = '-'; break;
      default:
        atom.code_point = CharacterEscape(true);
        return atom;
    }
    ++pos_;
    return atom;
  }

  std::string AtomText(const ClassAtom& atom) const {
    return atom.class_escape.empty() ? Literal(atom.code_point) : std::string(atom.class_escape);
  }

  Status Class() {
    ++pos_;  // [
    bool negated = At(pos_, '^');
    if (negated) ++pos_;
    if (At(pos_, ']')) {  // `[]` matches nothing and `[^]` anything, as JavaScript has it
      ++pos_;
      out_ += negated ? kAnything : kNothing;
      return Status::Ok();
    }
    std::string body;
    while (true) {
      if (pos_ >= in_.size()) return Fail("missing terminating ] for character class");
      if (in_[pos_] == ']') break;
      ASSIGN_OR_RETURN(ClassAtom first, ReadClassAtom());
      if (At(pos_, '-') && pos_ + 1 < in_.size() && in_[pos_ + 1] != ']') {
        ++pos_;
        ASSIGN_OR_RETURN(ClassAtom last, ReadClassAtom());
        if (first.class_escape.empty() && last.class_escape.empty()) {
          if (first.code_point > last.code_point) {
            return Fail("range out of order in character class");
          }
          body += Literal(first.code_point) + "-" + Literal(last.code_point);
        } else {  // a set at either end makes the `-` a literal (Annex B)
          body += AtomText(first) + Literal('-') + AtomText(last);
        }
      } else {
        body += AtomText(first);
      }
    }
    ++pos_;  // ]
    out_ += negated ? "[^" : "[";
    out_ += body;
    out_ += ']';
    return Status::Ok();
  }

  Status GroupOpen() {
    ++pos_;  // (
    if (!At(pos_, '?')) {
      out_ += '(';
      return Status::Ok();
    }
    if (At(pos_ + 1, ':')) {
      out_ += "(?:";
      pos_ += 2;
      return Status::Ok();
    }
    if (At(pos_ + 1, '=') || At(pos_ + 1, '!')) {
      return Fail("lookahead assertions are not supported");
    }
    if (At(pos_ + 1, '<') && (At(pos_ + 2, '=') || At(pos_ + 2, '!'))) {
      return Fail("lookbehind assertions are not supported");
    }
    if (At(pos_ + 1, '<')) {
      size_t close = in_.find('>', pos_ + 2);
      if (close == std::string_view::npos) return Fail("invalid capture group name");
      std::string_view name = in_.substr(pos_ + 2, close - pos_ - 2);
      bool valid = !name.empty() && !IsDigit(name[0]);
      for (char c : name) valid = valid && (IsAsciiLetter(c) || IsDigit(c) || c == '_');
      if (!valid) {
        return Fail("capture group name '" + std::string(name) +
                    "' is not supported (letters, digits and _ only)");
      }
      out_ += "(?P<";
      out_ += name;
      out_ += '>';
      pos_ = close + 1;
      return Status::Ok();
    }
    return Fail("invalid group");
  }

  // `{n}`, `{n,}` and `{n,m}` are quantifiers; any other brace is a literal in JavaScript.
  void Brace() {
    size_t i = pos_ + 1;
    auto digits = [&] {
      size_t start = i;
      while (i < in_.size() && IsDigit(in_[i])) ++i;
      return i > start;
    };
    bool quantifier = digits();
    if (quantifier && At(i, ',')) {
      ++i;
      digits();
    }
    quantifier = quantifier && At(i, '}');
    if (quantifier) {
      out_.append(in_.substr(pos_, i + 1 - pos_));
      pos_ = i + 1;
    } else {
      out_ += "\\{";
      ++pos_;
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string out_;
  long groups_ = 0;
  bool named_groups_ = false;
};

Value MatchObject(const std::shared_ptr<const Regex>& regex, const Value& text,
                  std::optional<Regex::Match> match, size_t base_byte, size_t base_index);

// A match object's `next`: the following match, searched from the end of this one. A
// zero-length match there would never advance, so it is error D1004, as in the reference.
class NextMatch final : public Function {
 public:
  NextMatch(std::shared_ptr<const Regex> regex, Value text, size_t from_byte, size_t from_index)
      : regex_(std::move(regex)),
        text_(std::move(text)),
        from_byte_(from_byte),
        from_index_(from_index) {}

  size_t Arity() const override { return 0; }

  StatusOr<Value> Call(std::vector<Value>, const Value&, CallContext&) const override {
    const std::string& text = text_.string();
    if (from_byte_ >= text.size()) return Value();
    std::optional<Regex::Match> match = regex_->Find(text, from_byte_);
    if (match && match->start == match->end) {
      return Error("D1004", "Regular expression matches zero length string: /" +
                                regex_->source() + "/");
    }
    return MatchObject(regex_, text_, std::move(match), from_byte_, from_index_);
  }

 private:
  std::shared_ptr<const Regex> regex_;
  Value text_;
  size_t from_byte_;
  size_t from_index_;  // from_byte_ in code points
};

// {"match", "start", "end", "groups", "next"}, with code point offsets counted on from
// `base_byte` (known to be code point `base_index`) so that stepping through many matches
// stays linear. Unmatched groups are null: the reference has undefined there, which JSON
// (and so its output) shows as null.
Value MatchObject(const std::shared_ptr<const Regex>& regex, const Value& text,
                  std::optional<Regex::Match> match, size_t base_byte, size_t base_index) {
  if (!match) return Value();
  std::string_view all = text.string();
  size_t start = base_index + CodePointCount(all.substr(base_byte, match->start - base_byte));
  size_t end = start + CodePointCount(all.substr(match->start, match->end - match->start));
  std::vector<Value> groups;
  groups.reserve(match->groups.size());
  for (auto& group : match->groups) {
    groups.push_back(group ? Value(std::move(*group)) : Value::Null());
  }
  ObjectData object;
  object.Set("match", Value(std::move(match->text)));
  object.Set("start", Value(start));
  object.Set("end", Value(end));
  object.Set("groups", Value::Array(std::move(groups)));
  if (regex != nullptr) {
    object.Set("next", Value(std::shared_ptr<const Function>(
                           std::make_shared<NextMatch>(regex, text, match->end, end))));
  }
  return Value::Object(std::move(object));
}

}  // namespace

StatusOr<std::shared_ptr<const Regex>> Regex::Compile(std::string_view pattern,
                                                      std::string_view flags) {
  bool ignore_case = false;
  bool multi_line = false;
  for (char flag : flags) {
    bool& seen = flag == 'i' ? ignore_case : multi_line;
    if ((flag != 'i' && flag != 'm') || seen) {
      return Error(kCompileError, "Invalid regular expression flags '" + std::string(flags) +
                                      "' on /" + std::string(pattern) + "/ (only i and m)");
    }
    seen = true;
  }
  if (pattern.empty()) return Error("S0301", "Empty regular expressions are not allowed");

  ASSIGN_OR_RETURN(std::string translated, Translator(pattern).Run());
  if (multi_line) translated.insert(0, "(?m)");
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_log_errors(false);
  options.set_case_sensitive(!ignore_case);
  auto re = std::make_unique<RE2>(translated, options);
  if (!re->ok()) {
    return Error(kCompileError, "Invalid regular expression /" + std::string(pattern) +
                                    "/: " + re->error());
  }

  std::shared_ptr<Regex> regex(new Regex());
  regex->source_ = std::string(pattern);
  regex->re_ = std::move(re);
  return std::shared_ptr<const Regex>(std::move(regex));
}

Regex::~Regex() = default;

std::optional<Regex::Match> Regex::Find(std::string_view text, size_t from) const {
  if (from > text.size()) return std::nullopt;
  if (text.data() == nullptr) text = "";
  // The whole text with a start position, so `^` and `\b` see what precedes `from`.
  const int groups = re_->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> pieces(static_cast<size_t>(groups) + 1);
  if (!re_->Match(text, from, text.size(), RE2::UNANCHORED, pieces.data(), groups + 1)) {
    return std::nullopt;
  }
  Match match;
  match.start = static_cast<size_t>(pieces[0].data() - text.data());
  match.end = match.start + pieces[0].size();
  match.text = std::string(pieces[0].data(), pieces[0].size());
  match.groups.reserve(static_cast<size_t>(groups));
  for (int i = 1; i <= groups; ++i) {
    const re2::StringPiece& piece = pieces[static_cast<size_t>(i)];
    if (piece.data() == nullptr) {
      match.groups.emplace_back(std::nullopt);
    } else {
      match.groups.emplace_back(std::string(piece.data(), piece.size()));
    }
  }
  return match;
}

// Applied to a string: its first match. Anything else matches nothing, as in the reference.
StatusOr<Value> Regex::Call(std::vector<Value> args, const Value&, CallContext&) const {
  if (args.empty() || !args[0].is_string()) return Value();
  return MatchObject(shared_from_this(), args[0], Find(args[0].string(), 0), 0, 0);
}

}  // namespace loam::jsonata
