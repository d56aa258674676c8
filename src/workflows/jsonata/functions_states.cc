// The functions Step Functions adds to JSONata: $partition, $range, $hash, $random, $uuid and
// $parse (they stand in for the States.* intrinsics JSONPath states use). AWS documents what
// they do but not their edge cases; those follow what Step Functions answers when measured:
//   - a non-integer argument is truncated towards zero ($range(-1.7, 2, 1) is [-1, 0, 1, 2]);
//   - several degenerate calls give undefined rather than an error (an empty array to
//     $partition, a zero step to $range, no algorithm for $hash);
//   - value errors are D3137 with Step Functions' own message, the code JSONata's $error uses;
//   - $random(seed) is java.util.Random's nextDouble, so a seed gives the number AWS gives;
//   - $range has no element cap (States.ArrayRange's 1000 does not apply), only the evaluation
//     memory limit, which refuses ranges past kMaxRangeItems.
// Step Functions reports any of these failures as States.QueryEvaluationError.
#include <openssl/evp.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "workflows/jsonata/functions.h"

namespace loam::jsonata {
namespace {

// Loam's code for a $range too large to hold: AWS fails it on its evaluation memory limit,
// which carries no JSONata code.
constexpr std::string_view kMemoryLimitCode = "D3802";
// The longest range Step Functions builds before its evaluation memory limit refuses it.
constexpr int64_t kMaxRangeItems = 360145;
// Nesting deeper than this is refused (Jackson's default limit; it also keeps the conversion
// below from recursing without bound).
constexpr int kMaxParseDepth = 1000;

Status SignatureMismatch(int argument, std::string_view function) {
  return Error("T0410", "Argument " + std::to_string(argument) + " of function \"" +
                            std::string(function) + "\" does not match function signature");
}

// Java's (long) cast: truncation towards zero, saturating, NaN to 0.
int64_t TruncateToLong(double value) {
  if (std::isnan(value)) return 0;
  if (value >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (value <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(value);
}

// $partition(array, chunkSize): the array in chunks of chunkSize, the last holding the rest.
StatusOr<Value> Partition(std::vector<Value>& args, CallContext&) {
  const Value& array = Arg(args, 0);
  if (array.undefined()) return Value();
  if (!array.is_array()) {
    return Error("T0412",
                 "Argument 1 of function \"partition\" must be an array of undefined");  // sic
  }
  const std::vector<Value>& items = array.items();
  if (items.empty()) return Value();
  if (Arg(args, 1).undefined()) return Value::Array({Value::Array(items)});
  const int64_t chunk_size = TruncateToLong(Arg(args, 1).number());
  if (chunk_size < 0) return Error("D3137", "Second argument must be zero or greater");
  if (chunk_size == 0) return Value();
  std::vector<Value> chunks;
  const size_t size =
      static_cast<size_t>(std::min<int64_t>(chunk_size, static_cast<int64_t>(items.size())));
  for (size_t start = 0; start < items.size(); start += size) {
    const size_t end = std::min(start + size, items.size());
    chunks.push_back(Value::Array(std::vector<Value>(items.begin() + start, items.begin() + end)));
  }
  return Value::Array(std::move(chunks));
}

// $range(start, end, step): start, start + step, ... up to and including end when a step lands
// on it. A step pointing away from end, or zero, gives undefined; a range of one value is that
// value, not an array.
StatusOr<Value> Range(std::vector<Value>& args, CallContext&) {
  if (Arg(args, 0).undefined()) return SignatureMismatch(1, "range");
  if (Arg(args, 1).undefined()) return SignatureMismatch(2, "range");
  if (Arg(args, 2).undefined()) return Value();
  const int64_t start = TruncateToLong(Arg(args, 0).number());
  const int64_t end = TruncateToLong(Arg(args, 1).number());
  const int64_t step = TruncateToLong(Arg(args, 2).number());
  if (step == 0 || (step > 0 && start > end) || (step < 0 && start < end)) return Value();
  if (start == end) return Value(static_cast<double>(start));
  // Counted in unsigned arithmetic: the distance between two int64 values can exceed int64.
  const uint64_t distance = step > 0 ? static_cast<uint64_t>(end) - static_cast<uint64_t>(start)
                                     : static_cast<uint64_t>(start) - static_cast<uint64_t>(end);
  const uint64_t stride =
      step > 0 ? static_cast<uint64_t>(step) : static_cast<uint64_t>(-(step + 1)) + 1;
  const uint64_t steps = distance / stride;  // the items after the first
  if (steps >= static_cast<uint64_t>(kMaxRangeItems)) {
    return Error(kMemoryLimitCode,
                 "Expression evaluation memory limit exceeded: $range would hold more than " +
                     std::to_string(kMaxRangeItems) + " items");
  }
  std::vector<Value> values;
  values.reserve(static_cast<size_t>(steps) + 1);
  int64_t value = start;
  for (uint64_t i = 0; i <= steps; ++i) {
    values.emplace_back(static_cast<double>(value));
    if (i < steps) value += step;  // stays between start and end
  }
  return Value::Array(std::move(values));
}

// $hash(data, algorithm): the digest of data's UTF-8 bytes, in lowercase hex.
StatusOr<Value> Hash(std::vector<Value>& args, CallContext&) {
  if (Arg(args, 0).undefined()) return SignatureMismatch(1, "hash");
  if (Arg(args, 1).undefined()) return Value();
  const std::string& algorithm = Arg(args, 1).string();
  const EVP_MD* digest = algorithm == "MD5"       ? EVP_md5()
                         : algorithm == "SHA-1"   ? EVP_sha1()
                         : algorithm == "SHA-256" ? EVP_sha256()
                         : algorithm == "SHA-384" ? EVP_sha384()
                         : algorithm == "SHA-512" ? EVP_sha512()
                                                  : nullptr;
  if (digest == nullptr) {
    // Step Functions lists them in this order.
    return Error("D3137", "Hash algorithm '" + algorithm +
                              "' must be one of SHA-1, SHA-384, SHA-256, SHA-512, MD5");
  }
  const std::string& data = Arg(args, 0).string();
  unsigned char bytes[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), bytes, &length, digest, nullptr) != 1) {
    return Internal("$hash: OpenSSL could not compute " + algorithm);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[bytes[i] >> 4];
    hex += kHex[bytes[i] & 0xF];
  }
  return Value(std::move(hex));
}

// java.util.Random's first nextDouble() for `seed`: the 48-bit linear congruential generator.
double JavaRandomDouble(int64_t seed) {
  constexpr uint64_t kMultiplier = 0x5DEECE66DULL, kAddend = 0xBULL, kMask = (1ULL << 48) - 1;
  uint64_t state = (static_cast<uint64_t>(seed) ^ kMultiplier) & kMask;
  auto next = [&](int bits) {
    state = (state * kMultiplier + kAddend) & kMask;
    return static_cast<int64_t>(state >> (48 - bits));
  };
  const int64_t high = next(26);
  const int64_t low = next(27);
  return static_cast<double>((high << 27) + low) * 0x1.0p-53;
}

// $random([seed]): a number in [0, 1); the same seed always gives the same number.
StatusOr<Value> Random(std::vector<Value>& args, CallContext& call) {
  if (!Arg(args, 0).undefined())
    return Value(JavaRandomDouble(TruncateToLong(Arg(args, 0).number())));
  return Value(static_cast<double>(call.Random()() >> 11) * 0x1.0p-53);
}

// $uuid(): a random version 4 UUID.
StatusOr<Value> Uuid(std::vector<Value>&, CallContext& call) {
  unsigned char bytes[16];
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = call.Random()();
    for (int i = 0; i < 8; ++i, bits >>= 8)
      bytes[half * 8 + i] = static_cast<unsigned char>(bits & 0xFF);
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kHex[bytes[i] >> 4];
    text += kHex[bytes[i] & 0xF];
  }
  return Value(std::move(text));
}

// JSON.parse keeps object keys in document order, so the parse goes through ordered_json.
Value FromOrderedJson(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::Null();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned:
    case nlohmann::ordered_json::value_t::number_float:
      return Value(json.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(FromOrderedJson(item));
      return Value::Array(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      ObjectData object;
      for (const auto& [key, item] : json.items()) object.Set(key, FromOrderedJson(item));
      return Value::Object(std::move(object));
    }
    default:
      return Value();
  }
}

// $parse(json): the value a JSON text holds. Step Functions' parser refuses a repeated key,
// text after the value, an empty string and nesting past kMaxParseDepth: all "Invalid JSON".
StatusOr<Value> Parse(std::vector<Value>& args, CallContext&) {
  if (Arg(args, 0).undefined()) return Value();
  bool refused = false;
  std::vector<std::unordered_set<std::string>> keys;  // per open object
  auto check = [&](int depth, nlohmann::ordered_json::parse_event_t event,
                   nlohmann::ordered_json& parsed) {
    using Event = nlohmann::ordered_json::parse_event_t;
    if (depth >= kMaxParseDepth) refused = true;  // depth counts from 0
    if (event == Event::object_start) {
      keys.emplace_back();
    } else if (event == Event::object_end && !keys.empty()) {
      keys.pop_back();
    } else if (event == Event::key && !keys.empty() &&
               !keys.back().insert(parsed.get<std::string>()).second) {
      refused = true;
    }
    return true;
  };
  nlohmann::ordered_json json = nlohmann::ordered_json::parse(Arg(args, 0).string(), check, false);
  if (refused || json.is_discarded()) return Error("D3137", "Invalid JSON");
  return FromOrderedJson(json);
}

// Step Functions leaves $eval out of its JSONata: an expression may not run text as an expression.
StatusOr<Value> EvalNotAvailable(std::vector<Value>&, CallContext&) {
  return Error("T1006", "The function $eval is not available in Step Functions' JSONata; use $parse to read JSON text");
}

}  // namespace

void AddStepFunctionsFunctions(std::vector<NativeFunction>& out) {
  out.push_back({"eval", "<sx?:x>", EvalNotAvailable});
  out.push_back({"partition", "<xn?:a>", Partition});
  out.push_back({"range", "<nnn?:a>", Range});
  out.push_back({"hash", "<ss?:s>", Hash});
  out.push_back({"random", "<n?:n>", Random});
  out.push_back({"uuid", "<:s>", Uuid});
  out.push_back({"parse", "<s:x>", Parse});
}

}  // namespace loam::jsonata
