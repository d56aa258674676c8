// Request validation against a botocore shape, reproducing what AWS JSON services answer:
//   - a value of the wrong JSON type fails deserialization first: SerializationException;
//   - otherwise every violated constraint is reported, in model order, as
//     "N validation error(s) detected: Value '<v>' at '<path>' failed to satisfy constraint:
//      <constraint>; ..." with paths like "inputDataConfig.1.member.channelName";
//   - list elements and map keys/values that are plain values are reported once for the whole
//     list or map, listing the element shape's constraints, as AWS does:
//     "Member must satisfy constraint: [...]", "Map keys must satisfy constraint: [...]".
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "api/aws/aws_errors.h"
#include "api/aws/shape.h"

namespace loam::api::aws {
namespace {

using Json = nlohmann::json;

// AWS counts every violation but lists only the first few.
constexpr size_t kMaxListedViolations = 10;

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out.append(sep);
    out.append(parts[i]);
  }
  return out;
}

std::string ChildPath(const std::string& path, std::string_view child) {
  return path.empty() ? std::string(child) : path + "." + std::string(child);
}

// AWS numbers list elements from 1: "inputDataConfig.1.member".
std::string ElementPath(const std::string& list_path, size_t index) {
  return list_path + "." + std::to_string(index + 1) + ".member";
}

// How AWS (Java) prints a value in a message: strings bare, lists "[a, b]", maps "{k=v}".
// Nesting is cut short: the value comes from the client and may be arbitrarily deep.
std::string Render(const Json& v, int depth = 0) {
  constexpr int kMaxRenderDepth = 8;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array() || v.is_object()) {
    if (depth >= kMaxRenderDepth) return "...";
    std::vector<std::string> parts;
    for (const auto& [k, e] : v.items()) {
      parts.push_back(v.is_object() ? k + "=" + Render(e, depth + 1) : Render(e, depth + 1));
    }
    return v.is_array() ? "[" + Join(parts, ", ") + "]" : "{" + Join(parts, ", ") + "}";
  }
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Length as AWS counts it: characters, not UTF-8 bytes.
size_t CharacterCount(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string LengthAtMost(const Shape::Bound& b) { return "Member must have length less than or equal to " + b.text; }
std::string LengthAtLeast(const Shape::Bound& b) {
  return "Member must have length greater than or equal to " + b.text;
}
std::string ValueAtMost(const Shape::Bound& b) { return "Member must have value less than or equal to " + b.text; }
std::string ValueAtLeast(const Shape::Bound& b) { return "Member must have value greater than or equal to " + b.text; }
std::string PatternConstraint(const Shape& s) { return "Member must satisfy regular expression pattern: " + s.pattern; }
std::string EnumConstraint(const Shape& s) {
  return "Member must satisfy enum value set: [" + Join(s.enum_values, ", ") + "]";
}
std::string AllOf(std::string_view what, const std::vector<std::string>& constraints) {
  return std::string(what) + " must satisfy constraint: [" + Join(constraints, ", ") + "]";
}
constexpr std::string_view kNotNull = "Member must not be null";

bool IsNumeric(Shape::Type t) {
  return t == Shape::Type::kInteger || t == Shape::Type::kLong || t == Shape::Type::kFloat ||
         t == Shape::Type::kDouble;
}

// Every constraint of a plain-value shape, in the order AWS lists them.
std::vector<std::string> AllConstraints(const Shape& s) {
  std::vector<std::string> out;
  bool numeric = IsNumeric(s.type);
  if (s.max) out.push_back(numeric ? ValueAtMost(*s.max) : LengthAtMost(*s.max));
  if (s.min) out.push_back(numeric ? ValueAtLeast(*s.min) : LengthAtLeast(*s.min));
  if (!s.pattern.empty()) out.push_back(PatternConstraint(s));
  if (!s.enum_values.empty()) out.push_back(EnumConstraint(s));
  return out;
}

// The constraints a correctly typed plain value violates, in AllConstraints order.
std::vector<std::string> ViolatedConstraints(const Shape& s, const Json& v) {
  std::vector<std::string> out;
  if (s.type == Shape::Type::kString) {
    const std::string& text = v.get_ref<const std::string&>();
    size_t length = CharacterCount(text);
    if (s.max && static_cast<double>(length) > s.max->value) out.push_back(LengthAtMost(*s.max));
    if (s.min && static_cast<double>(length) < s.min->value) out.push_back(LengthAtLeast(*s.min));
    // AWS applies a pattern to the whole value, as Java's Pattern.matches does.
    if (s.regex && !RE2::FullMatch(text, *s.regex)) out.push_back(PatternConstraint(s));
    if (!s.enum_values.empty() &&
        std::find(s.enum_values.begin(), s.enum_values.end(), text) == s.enum_values.end()) {
      out.push_back(EnumConstraint(s));
    }
  } else if (IsNumeric(s.type)) {
    double x = v.get<double>();
    if (s.max && x > s.max->value) out.push_back(ValueAtMost(*s.max));
    if (s.min && x < s.min->value) out.push_back(ValueAtLeast(*s.min));
  }
  return out;
}

const char* TypeNoun(Shape::Type t) {
  switch (t) {
    case Shape::Type::kStructure: return "a Structure";
    case Shape::Type::kList: return "a List";
    case Shape::Type::kMap: return "a Map";
    case Shape::Type::kString: return "a String";
    case Shape::Type::kInteger: return "an Integer";
    case Shape::Type::kLong: return "a Long";
    case Shape::Type::kFloat: return "a Float";
    case Shape::Type::kDouble: return "a Double";
    case Shape::Type::kBoolean: return "a Boolean";
    case Shape::Type::kTimestamp: return "a Timestamp";
    case Shape::Type::kBlob: return "a Blob";
    case Shape::Type::kDocument: return "a Document";
  }
  return "a value";
}

bool FitsIn(const Json& v, int64_t lo, int64_t hi) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(hi);
  int64_t x = v.get<int64_t>();
  return x >= lo && x <= hi;
}

// Why `v` cannot be deserialized as `s` (AWS's wording), or nullopt when it can.
std::optional<std::string> TypeMismatch(const Shape& s, const Json& v) {
  using T = Shape::Type;
  bool ok = false;
  switch (s.type) {
    case T::kStructure:
    case T::kMap: ok = v.is_object(); break;
    case T::kList: ok = v.is_array(); break;
    case T::kString:
    case T::kBlob: ok = v.is_string(); break;
    case T::kInteger:
      ok = v.is_number_integer() &&
           FitsIn(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
      break;
    case T::kLong:
      ok = v.is_number_integer() &&
           FitsIn(v, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
      break;
    case T::kFloat:
    case T::kDouble: ok = v.is_number(); break;
    case T::kBoolean: ok = v.is_boolean(); break;
    case T::kTimestamp: ok = v.is_number() || v.is_string(); break;  // epoch seconds or ISO 8601
    case T::kDocument: ok = true; break;
  }
  if (ok) return std::nullopt;
  if (v.is_object()) return "Start of structure or map found where not expected";
  if (v.is_array()) return "Start of list found where not expected";
  if (v.is_number_integer() && (s.type == T::kInteger || s.type == T::kLong)) {
    return "NUMBER_VALUE is out of range for " + std::string(TypeNoun(s.type));
  }
  const char* token = v.is_string() ? "STRING_VALUE" : v.is_boolean() ? "BOOLEAN_VALUE" : "NUMBER_VALUE";
  return std::string(token) + " can not be converted to " + TypeNoun(s.type);
}

class Validator {
 public:
  Status Run(const Shape& root, const Json& input) {
    Visit(root, input, "");
    if (serialization_error_) {
      return AwsError(StatusCode::kInvalidArgument, kSerializationException, *serialization_error_);
    }
    if (violations_.empty()) return Status::Ok();
    size_t n = violations_.size();
    if (n > kMaxListedViolations) violations_.resize(kMaxListedViolations);
    std::string head = n == 1 ? "1 validation error detected: " : std::to_string(n) + " validation errors detected: ";
    return InvalidArgument(head + Join(violations_, "; "));
  }

 private:
  // `subject` is ValueOf(v), kNullValue, or kValueLeftOut for maps, whose contents AWS omits.
  void Violation(const std::string& subject, const std::string& path, std::string_view constraint) {
    violations_.push_back(subject + " at '" + path + "' failed to satisfy constraint: " + std::string(constraint));
  }
  static std::string ValueOf(const Json& v) { return "Value '" + Render(v) + "'"; }
  static constexpr const char* kNullValue = "Value null";
  static constexpr const char* kValueLeftOut = "Value";

  bool TypeOk(const Shape& s, const Json& v, const std::string& path) {
    auto mismatch = TypeMismatch(s, v);
    if (!mismatch) return true;
    if (!serialization_error_) serialization_error_ = *mismatch + (path.empty() ? "" : " (at '" + path + "')");
    return false;
  }

  void Visit(const Shape& s, const Json& v, const std::string& path) {
    if (!TypeOk(s, v, path)) return;
    switch (s.type) {
      case Shape::Type::kStructure: return VisitStructure(s, v, path);
      case Shape::Type::kList: return VisitList(s, v, path);
      case Shape::Type::kMap: return VisitMap(s, v, path);
      default:
        for (const auto& c : ViolatedConstraints(s, v)) Violation(ValueOf(v), path, c);
    }
  }

  void VisitStructure(const Shape& s, const Json& v, const std::string& path) {
    for (const auto& m : s.members) {
      auto it = v.find(m.name);
      std::string member_path = ChildPath(path, m.path_name);
      if (it == v.end() || it->is_null()) {
        if (m.required) Violation(kNullValue, member_path, kNotNull);
        continue;
      }
      Visit(*m.shape, *it, member_path);
    }
  }

  // Lists are quoted in the message, maps are not (as AWS does).
  void CheckSize(const Shape& s, const Json& v, const std::string& path) {
    double size = static_cast<double>(v.size());
    auto subject = [&] { return v.is_array() ? ValueOf(v) : std::string(kValueLeftOut); };
    if (s.max && size > s.max->value) Violation(subject(), path, LengthAtMost(*s.max));
    if (s.min && size < s.min->value) Violation(subject(), path, LengthAtLeast(*s.min));
  }

  void VisitList(const Shape& s, const Json& v, const std::string& path) {
    CheckSize(s, v, path);
    const Shape& element = *s.member;
    if (!element.IsScalar()) {
      for (size_t i = 0; i < v.size(); ++i) {
        std::string element_path = ElementPath(path, i);
        if (v[i].is_null()) {
          Violation(kNullValue, element_path, kNotNull);
        } else {
          Visit(element, v[i], element_path);
        }
      }
      return;
    }
    bool any_bad = false;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].is_null()) {
        any_bad = true;
      } else if (TypeOk(element, v[i], ElementPath(path, i))) {
        any_bad = any_bad || !ViolatedConstraints(element, v[i]).empty();
      }
    }
    if (!any_bad) return;
    std::vector<std::string> constraints = AllConstraints(element);
    constraints.emplace_back(kNotNull);
    Violation(ValueOf(v), path, AllOf("Member", constraints));
  }

  void VisitMap(const Shape& s, const Json& v, const std::string& path) {
    CheckSize(s, v, path);
    bool bad_key = false;
    bool bad_value = false;
    for (const auto& [k, e] : v.items()) {
      if (s.key->type == Shape::Type::kString && !ViolatedConstraints(*s.key, Json(k)).empty()) bad_key = true;
      std::string value_path = ChildPath(path, k);
      if (e.is_null()) {
        Violation(kNullValue, value_path, kNotNull);
      } else if (!s.value->IsScalar()) {
        Visit(*s.value, e, value_path);
      } else if (TypeOk(*s.value, e, value_path)) {
        bad_value = bad_value || !ViolatedConstraints(*s.value, e).empty();
      }
    }
    if (bad_key) Violation(kValueLeftOut, path, AllOf("Map keys", AllConstraints(*s.key)));
    if (bad_value) Violation(kValueLeftOut, path, AllOf("Map value", AllConstraints(*s.value)));
  }

  std::optional<std::string> serialization_error_;  // the first one; it alone is reported
  std::vector<std::string> violations_;
};

}  // namespace

Status ValidateAgainstShape(const Shape& root, const Json& input) { return Validator().Run(root, input); }

}  // namespace loam::api::aws
