#include "workflows/intrinsics.h"

#include <fmt/format.h>

#include "workflows/json_path.h"

#include <unordered_map>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <random>

#include "common/base64.h"
#include "common/ids.h"
#include "common/strings.h"

namespace loam::workflows {

using nlohmann::json;

namespace {

constexpr size_t kMaxStringArgument = 10000;  // Base64Encode/Decode, Hash inputs
constexpr int64_t kMaxArrayRange = 1000;

struct Arity {
  std::string_view name;
  int min, max;  // max -1: any number
};
constexpr Arity kFunctions[] = {
    {"Format", 1, -1},        {"StringToJson", 1, 1},  {"JsonToString", 1, 1},  {"Array", 0, -1},
    {"ArrayPartition", 2, 2}, {"ArrayContains", 2, 2}, {"ArrayRange", 3, 3},    {"ArrayGetItem", 2, 2},
    {"ArrayLength", 1, 1},    {"ArrayUnique", 1, 1},   {"Base64Encode", 1, 1},  {"Base64Decode", 1, 1},
    {"Hash", 2, 2},           {"JsonMerge", 3, 3},     {"MathRandom", 2, 3},    {"MathAdd", 2, 2},
    {"StringSplit", 2, 2},    {"UUID", 0, 0},
};

class Parser {
 public:
  explicit Parser(std::string_view text) : t_(text) {}

  StatusOr<IntrinsicCall> Call() {
    if (t_.substr(i_, 7) != "States.") return Error("a call must begin with 'States.'");
    i_ += 7;
    const size_t start = i_;
    while (i_ < t_.size() && std::isalnum(static_cast<unsigned char>(t_[i_]))) ++i_;
    IntrinsicCall call;
    call.function = std::string(t_.substr(start, i_ - start));
    const Arity* arity = nullptr;
    for (const Arity& a : kFunctions) {
      if (a.name == call.function) arity = &a;
    }
    if (!arity) return InvalidArgument(fmt::format("Unknown intrinsic function 'States.{}'", call.function));
    Skip();
    if (!Eat('(')) return Error("expected '('");
    Skip();
    if (!Eat(')')) {
      while (true) {
        Skip();
        ASSIGN_OR_RETURN(IntrinsicArg arg, Arg());
        call.args.push_back(std::move(arg));
        Skip();
        if (Eat(')')) break;
        if (!Eat(',')) return Error("expected ',' or ')'");
      }
    }
    const int n = static_cast<int>(call.args.size());
    if (n < arity->min || (arity->max >= 0 && n > arity->max)) {
      return InvalidArgument(fmt::format("States.{} takes {} arguments, not {}", call.function,
                                         arity->max == arity->min ? std::to_string(arity->min)
                                         : arity->max < 0        ? fmt::format("at least {}", arity->min)
                                                                 : fmt::format("{} to {}", arity->min, arity->max),
                                         n));
    }
    return call;
  }

  bool AtEnd() {
    Skip();
    return i_ == t_.size();
  }

 private:
  Status Error(const std::string& what) {
    return InvalidArgument(fmt::format("Malformed intrinsic function call '{}': {} at position {}", t_, what, i_));
  }
  void Skip() {
    while (i_ < t_.size() && t_[i_] == ' ') ++i_;
  }
  bool Eat(char c) {
    if (i_ < t_.size() && t_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  StatusOr<IntrinsicArg> Arg() {
    IntrinsicArg arg;
    if (i_ >= t_.size()) return Error("expected an argument");
    const char c = t_[i_];
    if (c == '\'') {
      ++i_;
      std::string text, raw;
      while (true) {
        if (i_ >= t_.size()) return Error("unterminated string");
        const char ch = t_[i_++];
        if (ch == '\'') break;
        if (ch == '\\') {
          // The escapes the States Language has: \' \{ \} \\. The raw form keeps the brace
          // and backslash escapes, which States.Format tells from its placeholders.
          const char next = i_ < t_.size() ? t_[i_] : '\0';
          if (next != '\'' && next != '{' && next != '}' && next != '\\') return Error("invalid escape sequence");
          ++i_;
          text += next;
          if (next != '\'') raw += '\\';
          raw += next;
          continue;
        }
        text += ch;
        raw += ch;
      }
      arg.literal = text;
      arg.raw = raw;
      return arg;
    }
    if (c == '$') {
      // A path runs to the ',' or ')' that ends the argument, outside brackets and quotes.
      const size_t start = i_;
      int depth = 0;
      char quote = 0;
      while (i_ < t_.size()) {
        const char ch = t_[i_];
        if (quote) {
          if (ch == quote) quote = 0;
        } else if (ch == '\'' || ch == '"') {
          quote = ch;
        } else if (ch == '[') {
          ++depth;
        } else if (ch == ']') {
          --depth;
        } else if (depth == 0 && (ch == ',' || ch == ')' || ch == ' ')) {
          break;
        }
        ++i_;
      }
      auto path = ParsePath(t_.substr(start, i_ - start));
      if (!path.ok()) return InvalidArgument(fmt::format("Malformed intrinsic function call '{}': {}", t_, path.status().message()));
      arg.kind = IntrinsicArg::Kind::kPath;
      arg.path = std::move(path).value();
      return arg;
    }
    if (t_.substr(i_, 7) == "States.") {
      ASSIGN_OR_RETURN(IntrinsicCall inner, Call());
      arg.kind = IntrinsicArg::Kind::kCall;
      arg.call = std::make_shared<IntrinsicCall>(std::move(inner));
      return arg;
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (t_.substr(i_, word.size()) == word) {
        i_ += word.size();
        arg.literal = json::parse(word);
        return arg;
      }
    }
    const size_t start = i_;
    while (i_ < t_.size() && (std::isdigit(static_cast<unsigned char>(t_[i_])) || t_[i_] == '-' || t_[i_] == '+' ||
                              t_[i_] == '.' || t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
    }
    json number = json::parse(t_.substr(start, i_ - start), nullptr, /*allow_exceptions=*/false);
    if (i_ == start || !number.is_number()) return Error("expected a string, number, path or call");
    arg.literal = std::move(number);
    return arg;
  }

  std::string_view t_;
  size_t i_ = 0;
};

Status Failure(const std::string& function, const std::string& why) {
  return InvalidArgument(fmt::format("Invalid arguments in States.{}: {}", function, why));
}

StatusOr<int64_t> IntegerArg(const std::string& function, const json& v, const char* what) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float() && v.get<double>() == std::floor(v.get<double>())) return static_cast<int64_t>(v.get<double>());
  return Failure(function, fmt::format("the {} must be an integer, not {}", what, v.dump(-1, ' ', false, kReplaceInvalid)));
}

std::string Text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, kReplaceInvalid); }

StatusOr<std::string> Hash(const std::string& data, const std::string& algorithm) {
  const EVP_MD* md = algorithm == "MD5"       ? EVP_md5()
                     : algorithm == "SHA-1"   ? EVP_sha1()
                     : algorithm == "SHA-256" ? EVP_sha256()
                     : algorithm == "SHA-384" ? EVP_sha384()
                     : algorithm == "SHA-512" ? EVP_sha512()
                                              : nullptr;
  if (!md) return Failure("Hash", fmt::format("the algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, not '{}'", algorithm));
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", out[i]);
  return hex;
}

StatusOr<json> Apply(const IntrinsicCall& call, const std::vector<json>& a, const std::vector<std::string>& raw) {
  const std::string& f = call.function;
  if (f == "Format") {
    if (!a[0].is_string()) return Failure(f, "the template must be a string");
    const std::string& tpl = raw[0].empty() && a[0].is_string() ? a[0].get_ref<const std::string&>() : raw[0];
    std::string out;
    size_t next = 1;
    for (size_t i = 0; i < tpl.size(); ++i) {
      if (tpl[i] == '\\' && i + 1 < tpl.size() && (tpl[i + 1] == '{' || tpl[i + 1] == '}' || tpl[i + 1] == '\\')) {
        out += tpl[++i];
      } else if (tpl[i] == '{' && i + 1 < tpl.size() && tpl[i + 1] == '}') {
        if (next >= a.size()) return Failure(f, "the template has more placeholders than arguments");
        out += Text(a[next++]);
        ++i;
      } else if (tpl[i] == '{') {
        return InvalidArgument("Invalid template in States.Format: matching '}' not found for '{'.");
      } else if (tpl[i] == '}') {
        return InvalidArgument("Invalid template in States.Format: matching '{' not found for '}'.");
      } else {
        out += tpl[i];
      }
    }
    if (next != a.size()) return Failure(f, "the template has fewer placeholders than arguments");
    return json(out);
  }
  if (f == "StringToJson") {
    if (!a[0].is_string()) return Failure(f, "the argument must be a string");
    if (!JsonNestingWithin(a[0].get_ref<const std::string&>(), 512)) return Failure(f, "the string nests more than 512 levels");
    json v = json::parse(a[0].get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded()) return Failure(f, "the string is not JSON");
    return v;
  }
  if (f == "JsonToString") return json(a[0].dump(-1, ' ', false, kReplaceInvalid));
  if (f == "Array") return json(a);
  if (f == "ArrayPartition") {
    if (!a[0].is_array()) return Failure(f, "the first argument must be an array");
    ASSIGN_OR_RETURN(int64_t size, IntegerArg(f, a[1], "chunk size"));
    if (size <= 0) return Failure(f, "the chunk size must be greater than 0");
    json out = json::array();
    for (size_t i = 0; i < a[0].size(); i += static_cast<size_t>(size)) {
      json chunk = json::array();
      for (size_t k = i; k < std::min(a[0].size(), i + static_cast<size_t>(size)); ++k) chunk.push_back(a[0][k]);
      out.push_back(std::move(chunk));
    }
    return out;
  }
  if (f == "ArrayContains") {
    if (!a[0].is_array()) return Failure(f, "the first argument must be an array");
    return json(std::find(a[0].begin(), a[0].end(), a[1]) != a[0].end());
  }
  if (f == "ArrayRange") {
    ASSIGN_OR_RETURN(int64_t start, IntegerArg(f, a[0], "start"));
    ASSIGN_OR_RETURN(int64_t end, IntegerArg(f, a[1], "end"));
    ASSIGN_OR_RETURN(int64_t step, IntegerArg(f, a[2], "step"));
    if (step == 0) return Failure(f, "the step must not be 0");
    json out = json::array();
    for (int64_t v = start; step > 0 ? v <= end : v >= end; v += step) {
      if (static_cast<int64_t>(out.size()) >= kMaxArrayRange) {
        return Failure(f, fmt::format("the range has more than {} elements", kMaxArrayRange));
      }
      out.push_back(v);
    }
    return out;
  }
  if (f == "ArrayGetItem") {
    if (!a[0].is_array()) return Failure(f, "the first argument must be an array");
    ASSIGN_OR_RETURN(int64_t index, IntegerArg(f, a[1], "index"));
    if (index < 0 || index >= static_cast<int64_t>(a[0].size())) {
      return Failure(f, fmt::format("the index {} is out of the array's bounds (0 to {})", index, a[0].size()));
    }
    return a[0][static_cast<size_t>(index)];
  }
  if (f == "ArrayLength") {
    if (!a[0].is_array()) return Failure(f, "the argument must be an array");
    return json(a[0].size());
  }
  if (f == "ArrayUnique") {
    if (!a[0].is_array()) return Failure(f, "the argument must be an array");
    json out = json::array();
    for (const auto& v : a[0]) {
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    return out;
  }
  if (f == "Base64Encode" || f == "Base64Decode") {
    if (!a[0].is_string()) return Failure(f, "the argument must be a string");
    const std::string& s = a[0].get_ref<const std::string&>();
    if (s.size() > kMaxStringArgument) return Failure(f, fmt::format("the string is longer than {} characters", kMaxStringArgument));
    if (f == "Base64Encode") return json(Base64Encode(s));
    auto decoded = Base64Decode(s);
    if (!decoded || !IsValidUtf8(*decoded)) return Failure(f, "the string is not base64 of UTF-8 text");
    return json(*decoded);
  }
  if (f == "Hash") {
    const std::string data = Text(a[0]);
    if (data.size() > kMaxStringArgument) return Failure(f, fmt::format("the data is longer than {} characters", kMaxStringArgument));
    if (!a[1].is_string()) return Failure(f, "the algorithm must be a string");
    ASSIGN_OR_RETURN(std::string hex, Hash(data, a[1].get<std::string>()));
    return json(hex);
  }
  if (f == "JsonMerge") {
    if (!a[0].is_object() || !a[1].is_object()) return Failure(f, "the first two arguments must be JSON objects");
    if (!a[2].is_boolean()) return Failure(f, "the third argument must be a boolean");
    if (a[2].get<bool>()) return Failure(f, "deep merging is not supported; pass false for a shallow merge");
    json out = a[0];
    for (const auto& [k, v] : a[1].items()) out[k] = v;
    return out;
  }
  if (f == "MathRandom") {
    ASSIGN_OR_RETURN(int64_t start, IntegerArg(f, a[0], "start"));
    ASSIGN_OR_RETURN(int64_t end, IntegerArg(f, a[1], "end"));
    if (end <= start) return Failure(f, "the end must be greater than the start");
    std::mt19937_64 rng(std::random_device{}());
    if (a.size() == 3) {
      ASSIGN_OR_RETURN(int64_t seed, IntegerArg(f, a[2], "seed"));
      rng.seed(static_cast<uint64_t>(seed));
    }
    return json(std::uniform_int_distribution<int64_t>(start, end - 1)(rng));
  }
  if (f == "MathAdd") {
    if (!a[0].is_number() || !a[1].is_number()) return Failure(f, "both arguments must be numbers");
    if (a[0].is_number_integer() && a[1].is_number_integer()) return json(a[0].get<int64_t>() + a[1].get<int64_t>());
    return json(a[0].get<double>() + a[1].get<double>());
  }
  if (f == "StringSplit") {
    if (!a[0].is_string() || !a[1].is_string()) return Failure(f, "both arguments must be strings");
    const std::string& s = a[0].get_ref<const std::string&>();
    const std::string& delims = a[1].get_ref<const std::string&>();
    json out = json::array();
    std::string token;
    for (char c : s) {
      if (delims.find(c) != std::string::npos) {
        if (!token.empty()) out.push_back(token);
        token.clear();
      } else {
        token += c;
      }
    }
    if (!token.empty()) out.push_back(token);
    return out;
  }
  if (f == "UUID") return json(NewUuid());  // version 4
  return InvalidArgument(fmt::format("Unknown intrinsic function 'States.{}'", f));
}

}  // namespace

bool IsIntrinsic(std::string_view text) { return text.substr(0, 7) == "States."; }

StatusOr<std::shared_ptr<const IntrinsicCall>> CachedIntrinsic(std::string_view text) {
  thread_local std::unordered_map<std::string, std::shared_ptr<const IntrinsicCall>> cache;
  if (auto it = cache.find(std::string(text)); it != cache.end()) return it->second;
  ASSIGN_OR_RETURN(IntrinsicCall parsed, ParseIntrinsic(text));
  if (cache.size() >= 4096) cache.clear();
  auto call = std::make_shared<const IntrinsicCall>(std::move(parsed));
  cache.emplace(std::string(text), call);
  return call;
}

StatusOr<IntrinsicCall> ParseIntrinsic(std::string_view text) {
  Parser p(text);
  ASSIGN_OR_RETURN(IntrinsicCall call, p.Call());
  if (!p.AtEnd()) return InvalidArgument(fmt::format("Malformed intrinsic function call '{}': text after the call", text));
  return call;
}

StatusOr<json> EvaluateIntrinsic(const IntrinsicCall& call, const json& input, const PathRoots& roots) {
  std::vector<json> values;
  std::vector<std::string> raw;
  for (const IntrinsicArg& arg : call.args) {
    switch (arg.kind) {
      case IntrinsicArg::Kind::kLiteral:
        values.push_back(arg.literal);
        raw.push_back(arg.raw);
        break;
      case IntrinsicArg::Kind::kPath: {
        auto v = SelectFrom(input, roots, arg.path);
        if (!v.ok()) {
          return InvalidArgument(fmt::format("Invalid arguments in States.{}: the path '{}' was not found in the input",
                                             call.function, arg.path.text));
        }
        values.push_back(std::move(v).value());
        raw.emplace_back();
        break;
      }
      case IntrinsicArg::Kind::kCall: {
        ASSIGN_OR_RETURN(json v, EvaluateIntrinsic(*arg.call, input, roots));
        values.push_back(std::move(v));
        raw.emplace_back();
        break;
      }
    }
  }
  return Apply(call, values, raw);
}

}  // namespace loam::workflows
