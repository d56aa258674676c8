#include "api/inference_v2/tensors.h"

#include <fmt/format.h>

#include <array>
#include <optional>
#include <string_view>

namespace loam::api::inference_v2 {

using nlohmann::json;

namespace {

enum class ElementKind { kBool, kInteger, kUnsigned, kFloat, kBytes };

struct Datatype {
  std::string_view name;
  ElementKind kind;
};
constexpr std::array<Datatype, 13> kDatatypes = {{{"BOOL", ElementKind::kBool},
                                                  {"UINT8", ElementKind::kUnsigned},
                                                  {"UINT16", ElementKind::kUnsigned},
                                                  {"UINT32", ElementKind::kUnsigned},
                                                  {"UINT64", ElementKind::kUnsigned},
                                                  {"INT8", ElementKind::kInteger},
                                                  {"INT16", ElementKind::kInteger},
                                                  {"INT32", ElementKind::kInteger},
                                                  {"INT64", ElementKind::kInteger},
                                                  {"FP16", ElementKind::kFloat},
                                                  {"FP32", ElementKind::kFloat},
                                                  {"FP64", ElementKind::kFloat},
                                                  {"BYTES", ElementKind::kBytes}}};

bool ElementFits(const json& v, ElementKind kind) {
  switch (kind) {
    case ElementKind::kBool: return v.is_boolean();
    case ElementKind::kUnsigned: return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
    case ElementKind::kInteger: return v.is_number_integer();
    case ElementKind::kFloat: return v.is_number();
    case ElementKind::kBytes: return v.is_string();
  }
  return false;
}

// Deeper nesting than any tensor has is refused before it is walked (the walk recurses).
constexpr size_t kMaxRank = 32;
// More elements than 6 MB of JSON can hold (a shape of zeros may claim anything).
constexpr int64_t kMaxElements = 8 * 1024 * 1024;

// Appends the leaves of `data` (flat or nested) to `flat`; false when nested deeper than
// `max_depth`.
bool Flatten(const json& data, std::vector<const json*>& flat, size_t max_depth) {
  if (!data.is_array()) {
    flat.push_back(&data);
    return true;
  }
  if (max_depth == 0) return false;
  for (const auto& item : data) {
    if (!Flatten(item, flat, max_depth - 1)) return false;
  }
  return true;
}

json Nest(const std::vector<const json*>& flat, const std::vector<int64_t>& shape, size_t dim, size_t& next) {
  json out = json::array();
  for (int64_t i = 0; i < shape[dim]; ++i) {
    if (dim + 1 == shape.size()) {
      out.push_back(*flat[next++]);
    } else {
      out.push_back(Nest(flat, shape, dim + 1, next));
    }
  }
  return out;
}

StatusOr<json> InputValue(const json& input) {
  if (!input.is_object()) return InvalidArgument("each of \"inputs\" must be an object");
  const std::string name = input.value("name", "");
  if (name.empty() || !input["name"].is_string()) return InvalidArgument("an input has no \"name\"");
  if (!input.contains("shape") || !input["shape"].is_array()) {
    return InvalidArgument(fmt::format("input '{}' has no \"shape\" array", name));
  }
  std::vector<int64_t> shape;
  int64_t count = 1, nonzero = 1;
  if (input["shape"].size() > kMaxRank) {
    return InvalidArgument(fmt::format("input '{}': a shape has at most {} dimensions", name, kMaxRank));
  }
  for (const auto& d : input["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) {
      return InvalidArgument(fmt::format("input '{}': shape dimensions must be non-negative integers", name));
    }
    shape.push_back(d.get<int64_t>());
    count *= shape.back();
    if (shape.back() > 0 && __builtin_mul_overflow(nonzero, shape.back(), &nonzero)) nonzero = kMaxElements + 1;
    if (nonzero > kMaxElements) return InvalidArgument(fmt::format("input '{}': shape {} is too large", name, input["shape"].dump()));
  }
  const std::string datatype = input.value("datatype", "");
  const Datatype* type = nullptr;
  for (const auto& t : kDatatypes) {
    if (t.name == datatype) type = &t;
  }
  if (!type) return InvalidArgument(fmt::format("input '{}': unknown datatype '{}'", name, datatype));
  if (!input.contains("data")) {
    return InvalidArgument(fmt::format("input '{}' has no \"data\" (binary tensor data is not supported)", name));
  }
  std::vector<const json*> flat;
  if (!Flatten(input["data"], flat, std::max<size_t>(shape.size(), 1))) {
    return InvalidArgument(fmt::format("input '{}': data is nested deeper than shape {}", name, input["shape"].dump()));
  }
  if (static_cast<int64_t>(flat.size()) != count) {
    return InvalidArgument(fmt::format("input '{}': shape {} holds {} elements but data has {}", name,
                                       input["shape"].dump(), count, flat.size()));
  }
  for (const json* v : flat) {
    if (!ElementFits(*v, type->kind)) {
      const std::string shown = v->is_primitive() ? v->dump(-1, ' ', false, json::error_handler_t::replace) : v->type_name();
      return InvalidArgument(fmt::format("input '{}': element {} is not of datatype {}", name, shown, datatype));
    }
  }
  if (shape.empty()) return *flat.front();
  size_t next = 0;
  return Nest(flat, shape, 0, next);
}

// The shape of a (possibly nested) value, or an error when its lists are ragged: every leaf
// at the depth of the first one, every list at a depth as long as its siblings.
Status ShapeOf(const json& value, size_t dim, std::vector<int64_t>& shape, std::optional<size_t>& leaf_depth) {
  if (!value.is_array()) {
    if (!leaf_depth) leaf_depth = dim;
    return dim == *leaf_depth ? Status::Ok() : InvalidArgument("the model's answer is a ragged list");
  }
  if (dim >= kMaxRank || (leaf_depth && dim >= *leaf_depth)) return InvalidArgument("the model's answer is a ragged list");
  if (dim == shape.size()) shape.push_back(static_cast<int64_t>(value.size()));
  if (shape[dim] != static_cast<int64_t>(value.size())) return InvalidArgument("the model's answer is a ragged list");
  if (value.empty() && !leaf_depth) leaf_depth = dim + 1;
  for (const auto& item : value) RETURN_IF_ERROR(ShapeOf(item, dim + 1, shape, leaf_depth));
  return Status::Ok();
}

}  // namespace

StatusOr<json> RequestBody(const json& inputs) {
  if (!inputs.is_array() || inputs.empty()) return InvalidArgument("\"inputs\" must be a non-empty array");
  if (inputs.size() == 1) return InputValue(inputs[0]);
  json body = json::object();
  for (const auto& input : inputs) {
    ASSIGN_OR_RETURN(json value, InputValue(input));
    const std::string name = input["name"].get<std::string>();
    if (body.contains(name)) return InvalidArgument(fmt::format("input '{}' appears twice", name));
    body[name] = std::move(value);
  }
  return body;
}

StatusOr<json> ToTensor(const std::string& name, const json& value) {
  std::vector<int64_t> shape;
  if (value.is_array() && value.empty()) {
    return json{{"name", name}, {"shape", {0}}, {"datatype", "FP64"}, {"data", json::array()}};
  }
  std::optional<size_t> leaf_depth;
  RETURN_IF_ERROR(ShapeOf(value, 0, shape, leaf_depth));
  std::vector<const json*> flat;
  Flatten(value, flat, kMaxRank);
  bool all_bool = true, all_int = true, all_number = true, all_string = true;
  for (const json* v : flat) {
    all_bool &= v->is_boolean();
    all_int &= v->is_number_integer();
    all_number &= v->is_number();
    all_string &= v->is_string();
  }
  std::string datatype;
  if (all_bool) datatype = "BOOL";
  else if (all_int) datatype = "INT64";
  else if (all_number) datatype = "FP64";
  else if (all_string) datatype = "BYTES";
  else return InvalidArgument(fmt::format("the model's output '{}' mixes element types", name));
  json data = json::array();
  for (const json* v : flat) data.push_back(*v);
  if (shape.empty()) shape.push_back(1);  // a scalar answer is a one-element tensor
  return json{{"name", name}, {"shape", shape}, {"datatype", datatype}, {"data", std::move(data)}};
}

StatusOr<json> OutputTensors(const json& answer, const std::string& default_name) {
  json outputs = json::array();
  if (answer.is_object() && answer.contains("predictions")) {
    ASSIGN_OR_RETURN(json t, ToTensor(default_name, answer["predictions"]));
    outputs.push_back(std::move(t));
  } else if (answer.is_object() && !answer.empty()) {
    for (const auto& [key, value] : answer.items()) {
      ASSIGN_OR_RETURN(json t, ToTensor(key, value));
      outputs.push_back(std::move(t));
    }
  } else {
    ASSIGN_OR_RETURN(json t, ToTensor(default_name, answer));
    outputs.push_back(std::move(t));
  }
  return outputs;
}

}  // namespace loam::api::inference_v2
