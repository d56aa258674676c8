// A port of jsonata-js 2.0.6's signature.js. A signature becomes one regular expression over
// the arguments' type symbols, one capture group per parameter; the groups a call's symbols
// fill say which parameter took which arguments. Its quirks are kept on purpose (a `+`
// parameter of a non-array type repeats its first argument; an optional parameter that matched
// nothing still consumes the argument in its position), since expressions see them.
#include "workflows/jsonata/signature.h"

#include <regex>
#include <unordered_map>

namespace loam::jsonata {

namespace {

// Every symbol getSymbol can give; `a` and `x` parameters accept them all.
constexpr std::string_view kAnySymbol = "asnblfom";

// The symbols a parameter's own type accepts, before `?`, `+` or `-` modify it: what the
// reference's `contextRegex` tests the context value against.
bool Accepts(const Signature::Parameter& parameter, char symbol) {
  switch (parameter.type) {
    case 'a':
    case 'x':
      return kAnySymbol.find(symbol) != std::string_view::npos;
    case 'j':
      return symbol != 'f' && kAnySymbol.find(symbol) != std::string_view::npos;
    case 'f':
      return symbol == 'f';
    default:  // s, n, b, l, o and choices: their symbols or missing
      return symbol == 'm' || parameter.types.find(symbol) != std::string::npos;
  }
}

// The position of the bracket closing the one at `start` (the text's end when unbalanced).
size_t FindClosing(std::string_view text, size_t start, char open, char close) {
  int depth = 1;
  size_t position = start;
  while (position < text.size()) {
    ++position;
    if (position >= text.size()) break;
    if (text[position] == close) {
      if (--depth == 0) break;
    } else if (text[position] == open) {
      ++depth;
    }
  }
  return position;
}

// Compiled patterns, per thread: signatures are few and validated on every call.
const std::regex* CompiledPattern(const std::string& pattern) {
  thread_local std::unordered_map<std::string, std::regex> cache;
  if (auto it = cache.find(pattern); it != cache.end()) return &it->second;
  if (cache.size() > 1000) cache.clear();  // only hand-written lambda signatures add more
  try {
    return &cache.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first->second;
  } catch (const std::regex_error&) {
    return nullptr;
  }
}

// JSON.stringify of the function's name, as the reference's messages show it.
std::string QuotedName(std::string_view name) {
  if (name.empty()) return "undefined";
  return "\"" + std::string(name) + "\"";
}

const char* PluralTypeName(const std::string& subtype) {
  static const std::unordered_map<std::string, const char*> kNames = {
      {"a", "\"arrays\""},    {"b", "\"booleans\""}, {"f", "\"functions\""},
      {"n", "\"numbers\""},   {"o", "\"objects\""},  {"s", "\"strings\""}};
  auto it = kNames.find(subtype);
  return it == kNames.end() ? "undefined" : it->second;
}

}  // namespace

char SymbolOf(const Value& value) {
  switch (value.type()) {
    case Value::Type::kUndefined: return 'm';
    case Value::Type::kNull: return 'l';
    case Value::Type::kBool: return 'b';
    case Value::Type::kNumber: return 'n';
    case Value::Type::kString: return 's';
    case Value::Type::kArray: return 'a';
    case Value::Type::kObject: return 'o';
    case Value::Type::kFunction: return 'f';
  }
  return 'm';
}

StatusOr<Signature> Signature::Parse(std::string_view text) {
  Signature signature;
  std::vector<Parameter>& parameters = signature.parameters_;
  auto add = [&](char type, std::string types, std::string regex) {
    Parameter parameter;
    parameter.type = type;
    parameter.types = std::move(types);
    parameter.regex = std::move(regex);
    parameters.push_back(std::move(parameter));
  };

  // Position 0 is the opening '<'; the return type after ':' is not checked.
  for (size_t position = 1; position < text.size(); ++position) {
    const char symbol = text[position];
    if (symbol == ':') break;
    switch (symbol) {
      case 's':
      case 'n':
      case 'b':
      case 'l':
      case 'o':
        add(symbol, std::string(1, symbol), std::string("[") + symbol + "m]");
        break;
      case 'a':  // any value: a single one is treated as a one-item array
        add(symbol, "a", "[asnblfom]");
        break;
      case 'f':
        add(symbol, "f", "f");
        break;
      case 'j':
        add(symbol, "j", "[asnblom]");
        break;
      case 'x':
        add(symbol, "x", "[asnblfom]");
        break;
      case '-':
        if (!parameters.empty()) {
          parameters.back().context = true;
          parameters.back().regex += '?';
        }
        break;
      case '?':
      case '+':
        if (!parameters.empty()) {
          Parameter& last = parameters.back();
          last.regex += symbol;
          (symbol == '?' ? last.optional : last.one_or_more) = true;
        }
        break;
      case '(': {
        size_t end = FindClosing(text, position, '(', ')');
        std::string choice(text.substr(position + 1, end - position - 1));
        if (choice.find('<') != std::string::npos) {
          return Error("S0402", "Choice groups containing parameterized types are not supported");
        }
        add('(', choice, "[" + choice + "m]");
        position = end;
        break;
      }
      case '<': {
        if (parameters.empty() ||
            (parameters.back().type != 'a' && parameters.back().type != 'f')) {
          return Error("S0401", "Type parameters can only be applied to functions and arrays");
        }
        size_t end = FindClosing(text, position, '<', '>');
        parameters.back().subtype = std::string(text.substr(position + 1, end - position - 1));
        position = end;
        break;
      }
      default:
        break;  // the reference ignores anything else
    }
  }

  signature.pattern_ = "^";
  for (const Parameter& parameter : parameters) signature.pattern_ += "(" + parameter.regex + ")";
  signature.pattern_ += "$";
  if (CompiledPattern(signature.pattern_) == nullptr) {
    return Error("S0402", "Invalid function signature: " + std::string(text));
  }
  return signature;
}

namespace {

constexpr size_t kMaxArguments = 1000;

// How a signature's pattern splits the supplied symbols among its parameters: remembered per
// thread, since a call site passes the same kinds of arguments again and again and a regex match
// costs far more than the call it checks.
struct SymbolMatch {
  bool matched = false;
  std::vector<std::string> groups;  // one per parameter
};

const SymbolMatch& MatchSymbols(const std::string& pattern, const std::string& supplied, size_t parameters) {
  thread_local std::unordered_map<std::string, SymbolMatch> cache;
  std::string key = pattern;
  key += '\x01';
  key += supplied;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() > 4096) cache.clear();  // a bound, not a policy
  SymbolMatch result;
  const std::regex* compiled = CompiledPattern(pattern);
  std::smatch groups;
  if (compiled != nullptr && std::regex_search(supplied, groups, *compiled)) {
    result.matched = true;
    for (size_t i = 0; i < parameters; ++i) result.groups.push_back(groups[i + 1].str());
  }
  return cache.emplace(std::move(key), std::move(result)).first->second;
}

}  // namespace

StatusOr<std::vector<Value>> Signature::Validate(std::vector<Value> args, const Value& context,
                                                 std::string_view function_name) const {
  // The symbol pattern is matched by a backtracking regex, whose recursion grows with the
  // arguments; no function of the library takes more than a handful.
  if (args.size() > kMaxArguments) {
    return Error("T0410", "Function " + QuotedName(function_name) + " was called with " + std::to_string(args.size()) +
                              " arguments, more than the " + std::to_string(kMaxArguments) + " Loam accepts");
  }
  std::string supplied;
  supplied.reserve(args.size());
  for (const Value& arg : args) supplied += SymbolOf(arg);
  auto arg_at = [&](size_t index) { return index < args.size() ? args[index] : Value(); };

  const SymbolMatch& groups = MatchSymbols(pattern_, supplied, parameters_.size());
  if (!groups.matched) {
    // Find the first argument the parameters' patterns stop matching (throwValidationError).
    std::string partial = "^";
    size_t good_to = 0;
    for (const Parameter& parameter : parameters_) {
      partial += parameter.regex;
      const std::regex* prefix = CompiledPattern(partial);
      std::smatch prefix_match;
      if (prefix == nullptr || !std::regex_search(supplied, prefix_match, *prefix)) break;
      good_to = static_cast<size_t>(prefix_match.length(0));
    }
    return Error("T0410", "Argument " + std::to_string(good_to + 1) + " of function " +
                              QuotedName(function_name) + " does not match function signature");
  }

  std::vector<Value> validated;
  validated.reserve(parameters_.size());
  size_t arg_index = 0;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const Parameter& parameter = parameters_[i];
    const std::string& match = groups.groups[i];
    if (match.empty()) {
      if (parameter.context) {
        if (!Accepts(parameter, SymbolOf(context))) {
          return Error("T0411", "Context value is not a compatible type with argument " +
                                    std::to_string(arg_index + 1) + " of function " +
                                    QuotedName(function_name));
        }
        validated.push_back(context);
      } else {
        validated.push_back(arg_at(arg_index++));
      }
      continue;
    }
    // The reference reads the argument once per parameter; only arrays re-read it per symbol.
    Value arg = arg_at(arg_index);
    for (char single : match) {
      if (parameter.type == 'a') {
        if (single == 'm') {
          arg = Value();
        } else {
          arg = arg_at(arg_index);
          bool items_fit = true;
          if (!parameter.subtype.empty()) {
            if (single != 'a') {
              items_fit = match == parameter.subtype;
            } else if (!arg.items().empty()) {
              // Every item must share the first item's symbol, and that must be the subtype's.
              const char item_symbol = SymbolOf(arg.items()[0]);
              items_fit = item_symbol == parameter.subtype[0];
              for (const Value& item : arg.items()) {
                if (!items_fit) break;
                items_fit = SymbolOf(item) == item_symbol;
              }
            }
          }
          if (!items_fit) {
            return Error("T0412", "Argument " + std::to_string(arg_index + 1) + " of function " +
                                      QuotedName(function_name) + " must be an array of " +
                                      PluralTypeName(parameter.subtype));
          }
          if (single != 'a') arg = Value::Array({arg});
        }
      }
      validated.push_back(arg);
      ++arg_index;
    }
  }
  return validated;
}

}  // namespace loam::jsonata
