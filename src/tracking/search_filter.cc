#include "tracking/search_filter.h"

#include <cctype>
#include <fmt/format.h>
#include <optional>

#include "common/strings.h"

namespace loam::tracking {

const char* CompareOpSql(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return "=";
    case CompareOp::kNe: return "!=";
    case CompareOp::kLt: return "<";
    case CompareOp::kLe: return "<=";
    case CompareOp::kGt: return ">";
    case CompareOp::kGe: return ">=";
    case CompareOp::kLike: return "LIKE";
    case CompareOp::kILike: return "ILIKE";
    case CompareOp::kIn: return "IN";
    case CompareOp::kNotIn: return "NOT IN";
    case CompareOp::kIsNull: return "IS NULL";
    case CompareOp::kIsNotNull: return "IS NOT NULL";
  }
  return "=";
}

bool IsNumericRunAttribute(std::string_view key) { return key == "start_time" || key == "end_time"; }

bool IsLoggedModelAttribute(std::string_view key) {
  return key == "name" || key == "model_id" || key == "model_type" || key == "status" || key == "source_run_id" ||
         key == "creation_timestamp" || key == "last_updated_timestamp";
}

namespace {

enum class Grammar { kRuns, kExperiments, kLoggedModels };

struct Token {
  enum Kind { kIdent, kString, kNumber, kOp, kLParen, kRParen, kComma, kEnd } kind;
  std::string text;  // identifiers: raw text with quoted parts unquoted; strings: unescaped
  size_t pos;        // 0-based offset in the input
  bool quoted_key = false;
};

// Tokenizes one filter or order_by clause. Identifiers may contain dots and quoted parts
// (metrics.`a b`, params."x y"); strings use single or double quotes.
class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  StatusOr<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      while (i_ < in_.size() && std::isspace(static_cast<unsigned char>(in_[i_]))) ++i_;
      if (i_ >= in_.size()) break;
      char c = in_[i_];
      size_t start = i_;
      if (c == '(') { out.push_back({Token::kLParen, "(", i_++}); continue; }
      if (c == ')') { out.push_back({Token::kRParen, ")", i_++}); continue; }
      if (c == ',') { out.push_back({Token::kComma, ",", i_++}); continue; }
      if (c == '=' || c == '!' || c == '<' || c == '>') {
        std::string op(1, c);
        ++i_;
        if (i_ < in_.size() && in_[i_] == '=') { op += '='; ++i_; }
        if (op == "!") return Error(start, "expected '!=' but found '!'");
        if (op == "==") op = "=";
        out.push_back({Token::kOp, op, start});
        continue;
      }
      if (c == '\'' || c == '"') {
        // A double-quoted token directly after "entity." is a key, handled in identifiers.
        ASSIGN_OR_RETURN(std::string s, Quoted(c));
        out.push_back({Token::kString, s, start});
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '+' || c == '.') && i_ + 1 < in_.size() &&
                                                         (std::isdigit(static_cast<unsigned char>(in_[i_ + 1])) || in_[i_ + 1] == '.'))) {
        size_t j = i_ + 1;
        while (j < in_.size() && (std::isalnum(static_cast<unsigned char>(in_[j])) || in_[j] == '.' ||
                                  ((in_[j] == '-' || in_[j] == '+') && (in_[j - 1] == 'e' || in_[j - 1] == 'E'))))
          ++j;
        out.push_back({Token::kNumber, std::string(in_.substr(i_, j - i_)), start});
        i_ = j;
        continue;
      }
      if (IsIdentChar(c) || c == '`') {
        ASSIGN_OR_RETURN(Token t, Identifier());
        out.push_back(std::move(t));
        continue;
      }
      return Error(start, fmt::format("unexpected character '{}'", c));
    }
    out.push_back({Token::kEnd, "", in_.size()});
    return out;
  }

  Status Error(size_t pos, const std::string& what) const {
    return InvalidArgument(fmt::format("Invalid search expression '{}' at position {}: {}", in_, pos, what));
  }

 private:
  static bool IsIdentChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '/' || c == ':' || c == '.';
  }

  StatusOr<std::string> Quoted(char quote) {
    size_t start = i_;
    ++i_;
    std::string s;
    while (i_ < in_.size()) {
      char c = in_[i_];
      if (c == '\\' && i_ + 1 < in_.size() && in_[i_ + 1] == quote) { s += quote; i_ += 2; continue; }
      if (c == quote) {
        if (i_ + 1 < in_.size() && in_[i_ + 1] == quote && quote != '`') { s += quote; i_ += 2; continue; }
        ++i_;
        return s;
      }
      s += c;
      ++i_;
    }
    return Error(start, fmt::format("unterminated quoted text starting with {}", quote));
  }

  StatusOr<Token> Identifier() {
    Token t{Token::kIdent, "", i_};
    while (i_ < in_.size()) {
      char c = in_[i_];
      if (c == '`' || ((c == '"' || c == '\'') && !t.text.empty() && t.text.back() == '.')) {
        ASSIGN_OR_RETURN(std::string part, Quoted(c));
        t.text += part;
        t.quoted_key = true;
      } else if (IsIdentChar(c)) {
        t.text += c;
        ++i_;
      } else {
        break;
      }
    }
    return t;
  }

  std::string_view in_;
  size_t i_ = 0;
};

struct Identifier {
  EntityType entity;
  std::string key;
};

std::optional<EntityType> EntityFromPrefix(std::string_view prefix, Grammar grammar) {
  std::string p = ToLower(prefix);
  if (p == "tag" || p == "tags") return EntityType::kTag;
  if (p == "attribute" || p == "attributes" || p == "attr" || p == "run") return EntityType::kAttribute;
  if (grammar != Grammar::kExperiments) {
    if (p == "metric" || p == "metrics") return EntityType::kMetric;
    if (p == "param" || p == "params" || p == "parameter" || p == "parameters") return EntityType::kParam;
  }
  if (grammar == Grammar::kRuns && (p == "dataset" || p == "datasets")) return EntityType::kDataset;
  return std::nullopt;
}

std::optional<std::string> CanonicalAttribute(std::string_view key, Grammar grammar) {
  if (grammar == Grammar::kLoggedModels) {
    if (key == "creation_time") return std::string("creation_timestamp");
    if (key == "last_updated_time") return std::string("last_updated_timestamp");
    if (IsLoggedModelAttribute(key)) return std::string(key);
    return std::nullopt;
  }
  if (grammar == Grammar::kExperiments) {
    if (key == "name" || key == "creation_time" || key == "last_update_time" || key == "experiment_id")
      return std::string(key);
    return std::nullopt;
  }
  if (key == "run_id" || key == "run_uuid") return std::string("run_id");
  if (key == "created" || key == "Created") return std::string("start_time");
  if (key == "run_name" || key == "status" || key == "user_id" || key == "artifact_uri" ||
      key == "lifecycle_stage" || key == "start_time" || key == "end_time")
    return std::string(key);
  return std::nullopt;
}

class Parser {
 public:
  Parser(std::string_view input, std::vector<Token> tokens, Grammar grammar)
      : input_(input), tokens_(std::move(tokens)), grammar_(grammar) {}

  StatusOr<Filter> ParseFilter() {
    Filter f;
    if (Peek().kind == Token::kEnd) return f;
    while (true) {
      ASSIGN_OR_RETURN(Comparison c, ParseComparison());
      f.clauses.push_back(std::move(c));
      const Token& t = Peek();
      if (t.kind == Token::kEnd) break;
      if (t.kind == Token::kIdent && EqualsIgnoreCase(t.text, "AND")) {
        Next();
        continue;
      }
      if (t.kind == Token::kIdent && EqualsIgnoreCase(t.text, "OR"))
        return Error(t.pos, "'OR' is not supported; only 'AND' joins comparisons");
      return Error(t.pos, fmt::format("expected 'AND' or the end of the filter but found '{}'", t.text));
    }
    return f;
  }

  StatusOr<OrderBy> ParseOrderBy() {
    const Token& t = Peek();
    if (t.kind != Token::kIdent) return Error(t.pos, "expected an attribute, metric, param or tag to order by");
    ASSIGN_OR_RETURN(Identifier id, ParseIdentifier(Next(), /*for_order_by=*/true));
    OrderBy ob{id.entity, id.key, true};
    const Token& dir = Peek();
    if (dir.kind == Token::kIdent && EqualsIgnoreCase(dir.text, "ASC")) {
      Next();
    } else if (dir.kind == Token::kIdent && EqualsIgnoreCase(dir.text, "DESC")) {
      ob.ascending = false;
      Next();
    }
    if (Peek().kind != Token::kEnd)
      return Error(Peek().pos, fmt::format("expected 'ASC', 'DESC' or the end but found '{}'", Peek().text));
    return ob;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  Status Error(size_t pos, const std::string& what) const {
    return InvalidArgument(fmt::format("Invalid search expression '{}' at position {}: {}", input_, pos, what));
  }

  StatusOr<Identifier> ParseIdentifier(const Token& t, bool for_order_by) {
    std::string_view text = t.text;
    auto dot = text.find('.');
    if (dot == std::string_view::npos) {
      // A bare attribute name: `name` for experiments, `start_time` etc. for runs.
      auto attr = CanonicalAttribute(text, grammar_);
      if (!attr) {
        return Error(t.pos, fmt::format("invalid identifier '{}': expected {}", text,
                                         grammar_ == Grammar::kRuns
                                             ? "'metrics.<key>', 'params.<key>', 'tags.<key>' or 'attributes.<key>'"
                                             : "'name', 'tags.<key>', 'creation_time' or 'last_update_time'"));
      }
      return Identifier{EntityType::kAttribute, *attr};
    }
    auto entity = EntityFromPrefix(text.substr(0, dot), grammar_);
    std::string key(text.substr(dot + 1));
    if (!entity) return Error(t.pos, fmt::format("invalid entity type '{}'", text.substr(0, dot)));
    if (key.empty()) return Error(t.pos + dot + 1, "expected a key after '.'");
    if (*entity == EntityType::kAttribute) {
      auto attr = CanonicalAttribute(key, grammar_);
      if (!attr) return Error(t.pos + dot + 1, fmt::format("invalid attribute key '{}'", key));
      key = *attr;
    } else if (*entity == EntityType::kDataset) {
      if (for_order_by) return Error(t.pos, "cannot order by datasets");
      if (key != "name" && key != "digest" && key != "context")
        return Error(t.pos + dot + 1, fmt::format("invalid dataset key '{}': expected name, digest or context", key));
    }
    return Identifier{*entity, key};
  }

  StatusOr<Comparison> ParseComparison() {
    const Token& id_tok = Next();
    if (id_tok.kind != Token::kIdent)
      return Error(id_tok.pos, id_tok.kind == Token::kEnd ? std::string("expected a comparison but the filter ended")
                                                          : fmt::format("expected an identifier but found '{}'", id_tok.text));
    ASSIGN_OR_RETURN(Identifier id, ParseIdentifier(id_tok, false));

    const Token& op_tok = Next();
    CompareOp op;
    if (op_tok.kind == Token::kOp) {
      if (op_tok.text == "=") op = CompareOp::kEq;
      else if (op_tok.text == "!=") op = CompareOp::kNe;
      else if (op_tok.text == "<") op = CompareOp::kLt;
      else if (op_tok.text == "<=") op = CompareOp::kLe;
      else if (op_tok.text == ">") op = CompareOp::kGt;
      else if (op_tok.text == ">=") op = CompareOp::kGe;
      else return Error(op_tok.pos, fmt::format("invalid comparator '{}'", op_tok.text));
    } else if (op_tok.kind == Token::kIdent && EqualsIgnoreCase(op_tok.text, "LIKE")) {
      op = CompareOp::kLike;
    } else if (op_tok.kind == Token::kIdent && EqualsIgnoreCase(op_tok.text, "ILIKE")) {
      op = CompareOp::kILike;
    } else if (op_tok.kind == Token::kIdent && EqualsIgnoreCase(op_tok.text, "IN")) {
      op = CompareOp::kIn;
    } else if (op_tok.kind == Token::kIdent && EqualsIgnoreCase(op_tok.text, "NOT")) {
      const Token& in_tok = Next();
      if (!(in_tok.kind == Token::kIdent && EqualsIgnoreCase(in_tok.text, "IN")))
        return Error(in_tok.pos, "expected 'IN' after 'NOT'");
      op = CompareOp::kNotIn;
    } else if (op_tok.kind == Token::kIdent && EqualsIgnoreCase(op_tok.text, "IS")) {
      const Token& next = Next();
      if (next.kind == Token::kIdent && EqualsIgnoreCase(next.text, "NULL")) {
        op = CompareOp::kIsNull;
      } else if (next.kind == Token::kIdent && EqualsIgnoreCase(next.text, "NOT") && Peek().kind == Token::kIdent &&
                 EqualsIgnoreCase(Peek().text, "NULL")) {
        Next();
        op = CompareOp::kIsNotNull;
      } else {
        return Error(next.pos, "expected 'NULL' or 'NOT NULL' after 'IS'");
      }
    } else {
      return Error(op_tok.pos, op_tok.kind == Token::kEnd
                                   ? fmt::format("expected a comparator after '{}' but the filter ended", id_tok.text)
                                   : fmt::format("expected a comparator after '{}' but found '{}'", id_tok.text, op_tok.text));
    }

    Comparison c{id.entity, id.key, op, std::monostate{}};
    bool numeric = id.entity == EntityType::kMetric ||
                   (id.entity == EntityType::kAttribute && IsNumericAttribute(id.key));
    RETURN_IF_ERROR(CheckOperator(c, numeric, op_tok.pos));

    if (op == CompareOp::kIsNull || op == CompareOp::kIsNotNull) return c;
    if (op == CompareOp::kIn || op == CompareOp::kNotIn) {
      const Token& lp = Next();
      if (lp.kind != Token::kLParen) return Error(lp.pos, "expected '(' to start the list of values");
      std::vector<std::string> values;
      while (true) {
        const Token& v = Next();
        if (v.kind != Token::kString) return Error(v.pos, "expected a quoted string in the list of values");
        values.push_back(v.text);
        const Token& sep = Next();
        if (sep.kind == Token::kRParen) break;
        if (sep.kind != Token::kComma) return Error(sep.pos, "expected ',' or ')' in the list of values");
      }
      c.value = std::move(values);
      return c;
    }
    const Token& v = Next();
    if (numeric) {
      if (v.kind != Token::kNumber) {
        return Error(v.pos, fmt::format("expected a numeric value for '{}' but found '{}'", id_tok.text, v.text));
      }
      auto d = ParseDouble(v.text);
      if (!d) return Error(v.pos, fmt::format("invalid number '{}'", v.text));
      c.value = *d;
    } else {
      if (v.kind != Token::kString) {
        return Error(v.pos, fmt::format("expected a quoted string value for '{}' but found '{}'", id_tok.text,
                                        v.kind == Token::kEnd ? "the end of the filter" : v.text));
      }
      c.value = v.text;
    }
    return c;
  }

  bool IsNumericAttribute(const std::string& key) const {
    switch (grammar_) {
      case Grammar::kRuns: return IsNumericRunAttribute(key);
      case Grammar::kExperiments: return key == "creation_time" || key == "last_update_time";
      case Grammar::kLoggedModels: return key == "creation_timestamp" || key == "last_updated_timestamp";
    }
    return false;
  }

  Status CheckOperator(const Comparison& c, bool numeric, size_t pos) const {
    CompareOp op = c.op;
    bool is_null_op = op == CompareOp::kIsNull || op == CompareOp::kIsNotNull;
    bool string_op = op == CompareOp::kLike || op == CompareOp::kILike || op == CompareOp::kIn || op == CompareOp::kNotIn;
    bool order_op = op == CompareOp::kLt || op == CompareOp::kLe || op == CompareOp::kGt || op == CompareOp::kGe;
    if (is_null_op && c.entity != EntityType::kTag)
      return Error(pos, "'IS NULL' and 'IS NOT NULL' apply to tags only");
    if (numeric && (string_op || is_null_op))
      return Error(pos, fmt::format("comparator '{}' is not supported for numeric '{}'", CompareOpSql(op), c.key));
    if (!numeric && order_op)
      return Error(pos, fmt::format("comparator '{}' is not supported for string '{}'; use =, !=, LIKE, ILIKE, IN or NOT IN",
                                    CompareOpSql(op), c.key));
    return Status::Ok();
  }

  std::string_view input_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  Grammar grammar_;
};

StatusOr<Filter> ParseFilterWith(std::string_view input, Grammar grammar) {
  Lexer lexer(input);
  ASSIGN_OR_RETURN(auto tokens, lexer.Run());
  return Parser(input, std::move(tokens), grammar).ParseFilter();
}

StatusOr<OrderBy> ParseOrderByWith(std::string_view input, Grammar grammar) {
  Lexer lexer(input);
  ASSIGN_OR_RETURN(auto tokens, lexer.Run());
  return Parser(input, std::move(tokens), grammar).ParseOrderBy();
}

}  // namespace

StatusOr<Filter> ParseRunFilter(std::string_view filter) { return ParseFilterWith(filter, Grammar::kRuns); }
StatusOr<OrderBy> ParseRunOrderBy(std::string_view clause) { return ParseOrderByWith(clause, Grammar::kRuns); }
StatusOr<Filter> ParseExperimentFilter(std::string_view filter) { return ParseFilterWith(filter, Grammar::kExperiments); }
StatusOr<Filter> ParseLoggedModelFilter(std::string_view filter) {
  return ParseFilterWith(filter, Grammar::kLoggedModels);
}
StatusOr<OrderBy> ParseExperimentOrderBy(std::string_view clause) {
  return ParseOrderByWith(clause, Grammar::kExperiments);
}

}  // namespace loam::tracking
