#include "workflows/jsonata/sequences.h"

#include <nlohmann/json.hpp>

namespace loam::jsonata {
namespace {

void Flatten(const Value& value, std::vector<Value>& out) {
  if (value.is_array()) {
    for (const Value& item : value.items()) Flatten(item, out);
  } else {
    out.push_back(value);
  }
}

void CollectDescendants(const Value& value, std::vector<Value>& out) {
  if (!value.is_array()) out.push_back(value);
  if (value.is_array()) {
    for (const Value& item : value.items()) CollectDescendants(item, out);
  } else if (value.is_object()) {
    for (const auto& [key, item] : value.object().entries()) CollectDescendants(item, out);
  }
}

}  // namespace

Value LookupField(const Value& input, std::string_view name) {
  if (input.is_array()) {
    std::vector<Value> out;
    for (const Value& item : input.items()) {
      Value found = LookupField(item, name);
      if (found.undefined()) continue;
      if (found.is_array()) {
        for (const Value& member : found.items()) out.push_back(member);
      } else {
        out.push_back(std::move(found));
      }
    }
    return Value::Sequence(std::move(out));
  }
  if (input.is_object()) {
    const Value* found = input.object().Find(name);
    return found ? *found : Value();
  }
  return Value();
}

Value Wildcard(const Value& input) {
  const Value* source = &input;
  if (input.is_array() && input.array().outer_wrapper && !input.items().empty()) source = &input.items().front();
  std::vector<Value> out;
  auto add = [&out](const Value& value) {
    if (value.is_array()) {
      Flatten(value, out);
    } else {
      out.push_back(value);
    }
  };
  if (source->is_object()) {
    for (const auto& [key, value] : source->object().entries()) add(value);
  } else if (source->is_array()) {
    for (const Value& value : source->items()) add(value);
  }
  return Value::Sequence(std::move(out));
}

Value Descendants(const Value& input) {
  if (input.undefined()) return Value();
  std::vector<Value> out;
  CollectDescendants(input, out);
  if (out.size() == 1) return out.front();
  return Value::Sequence(std::move(out));
}

Value Append(const Value& a, const Value& b) {
  if (a.undefined()) return b;
  if (b.undefined()) return a;
  std::vector<Value> items;
  if (a.is_array()) {
    items = a.items();
  } else {
    items.push_back(a);
  }
  if (b.is_array()) {
    items.insert(items.end(), b.items().begin(), b.items().end());
  } else {
    items.push_back(b);
  }
  return Value::Array(std::move(items));
}

StatusOr<Value> DeepCopy(const Value& value) {
  if (value.undefined()) return Value();
  const auto parsed = nlohmann::ordered_json::parse(Stringify(value), nullptr, false);  // keeps key order
  if (parsed.is_discarded()) return Error("D3001", "The value cannot be copied through JSON");
  return FromJson(parsed);
}

Value TupleGet(const Value& tuple, std::string_view name) {
  if (!tuple.is_object()) return Value();
  const Value* found = tuple.object().Find(name);
  return found ? *found : Value();
}

Value TupleWith(const Value& tuple, std::string_view name, Value value) {
  ObjectData data = tuple.is_object() ? tuple.object() : ObjectData();
  data.Set(std::string(name), std::move(value));
  return Value::Object(std::move(data));
}

Value TupleStream(std::vector<Value> tuples) {
  auto data = std::make_shared<ArrayData>();
  data->items = std::move(tuples);
  data->sequence = true;
  data->tuple_stream = true;
  return Value(std::shared_ptr<const ArrayData>(std::move(data)));
}

}  // namespace loam::jsonata
