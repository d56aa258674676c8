// Paths: steps over sequences, the tuple streams that `@`, `#` and `%` bind, predicates and
// indexes, group-by object constructors and order-by.
#include <cmath>
#include <functional>
#include <unordered_map>

#include "workflows/jsonata/evaluator.h"
#include "workflows/jsonata/merge_sort.h"
#include "workflows/jsonata/sequences.h"

namespace loam::jsonata {
namespace {

FramePtr FrameFromTuple(const FramePtr& env, const Value& tuple) {
  auto frame = std::make_shared<Frame>(env);
  if (tuple.is_object()) {
    for (const auto& [name, value] : tuple.object().entries()) frame->Bind(name, value);
  }
  return frame;
}

bool IsTupleStream(const Value& v) { return v.is_array() && v.array().tuple_stream; }

Value WithTupleFlag(std::vector<Value> items, bool tuple_stream) {
  return tuple_stream ? TupleStream(std::move(items)) : Value::Sequence(std::move(items));
}

}  // namespace

StatusOr<Value> Evaluator::EvalPath(const Node& expr, const Value& input, const FramePtr& env) {
  // A lone field name on a single value, the most common path there is: the field itself is what
  // the general rules below come to (an array as it is, a scalar unwrapped, nothing undefined).
  if (expr.items.size() == 1 && !input.is_array() && !expr.keep_singleton_array && !expr.group) {
    const Node& step = *expr.items.front();
    if (step.type == NodeType::kName && step.stages.empty() && step.predicate.empty() && !step.tuple && !step.group &&
        !step.keep_array) {
      Value field = LookupField(input, step.text);
      if (field.is_sequence()) return Value::Sequence(field.items());  // flattened as a step flattens it
      return field;
    }
  }
  Value sequence = input.is_array() && expr.items.front()->type != NodeType::kVariable
                       ? input
                       : Value::Sequence({input});
  Value result;
  Value tuples;
  bool tuple_mode = false;
  for (size_t i = 0; i < expr.items.size(); ++i) {
    const Node& step = *expr.items[i];
    if (step.tuple) tuple_mode = true;
    if (i == 0 && step.cons_array) {
      ASSIGN_OR_RETURN(result, Eval(step, sequence, env));
    } else if (tuple_mode) {
      ASSIGN_OR_RETURN(tuples, EvalTupleStep(step, sequence, tuples.undefined() ? nullptr : &tuples, env));
    } else {
      ASSIGN_OR_RETURN(result, EvalStep(step, sequence, env, i + 1 == expr.items.size()));
    }
    if (!tuple_mode && (result.undefined() || (result.is_array() && result.items().empty()))) break;
    if (step.focus.empty()) sequence = result;
  }
  if (tuple_mode) {
    if (expr.tuple) {
      result = tuples;
    } else {
      std::vector<Value> items;
      if (tuples.is_array()) {
        for (const Value& tuple : tuples.items()) items.push_back(TupleGet(tuple, "@"));
      }
      result = Value::Sequence(std::move(items));
    }
  }
  if (expr.keep_singleton_array && result.is_array()) {
    if (result.array().constructed && !result.is_sequence()) {
      result = Value::Sequence({result}, true);
    } else {
      ArrayData data = result.array();
      data.keep_singleton = true;
      result = Value(std::make_shared<const ArrayData>(std::move(data)));
    }
  }
  if (expr.group) {
    return EvalGroup(*expr.group, tuple_mode ? tuples : result, env, expr.position);
  }
  return result;
}

StatusOr<Value> Evaluator::EvalStep(const Node& step, const Value& input, const FramePtr& env, bool last_step) {
  if (step.type == NodeType::kSort) {
    ASSIGN_OR_RETURN(Value sorted, EvalSort(step, input, env));
    if (step.stages.empty()) return sorted;
    return EvalStages(step.stages, std::move(sorted), env);
  }
  std::vector<Value> results;
  const std::vector<Value> single = input.is_array() ? std::vector<Value>{} : std::vector<Value>{input};
  const std::vector<Value>& items = input.is_array() ? input.items() : single;
  uint64_t weight = 0;
  for (const Value& item : items) {
    ASSIGN_OR_RETURN(Value value, Eval(step, item, env));
    // Checked as the results gather, not only once the sequence is whole.
    if ((weight += value.weight()) > kMaxValueWeight) {
      return Error("U1004", "The expression built a value too large to use (more than " + std::to_string(kMaxValueWeight) +
                                " parts, counting a string as a part per 8 bytes)");
    }
    for (const Stage& stage : step.stages) {
      ASSIGN_OR_RETURN(value, EvalFilter(*stage.expr, value, env));
    }
    if (!value.undefined()) results.push_back(std::move(value));
  }
  if (last_step && results.size() == 1 && results.front().is_array() && !results.front().is_sequence()) {
    return results.front();
  }
  std::vector<Value> flat;
  for (Value& value : results) {
    if (!value.is_array() || value.array().constructed) {
      flat.push_back(std::move(value));
    } else {
      for (const Value& item : value.items()) flat.push_back(item);
    }
  }
  return Value::Sequence(std::move(flat));
}

StatusOr<Value> Evaluator::EvalStages(const std::vector<Stage>& stages, Value input, const FramePtr& env) {
  for (const Stage& stage : stages) {
    if (stage.kind == Stage::Kind::kFilter) {
      ASSIGN_OR_RETURN(input, EvalFilter(*stage.expr, input, env));
    } else if (input.is_array()) {
      std::vector<Value> tuples;
      for (size_t i = 0; i < input.items().size(); ++i) {
        tuples.push_back(TupleWith(input.items()[i], stage.variable, Value(i)));
      }
      input = WithTupleFlag(std::move(tuples), IsTupleStream(input));
    }
  }
  return input;
}

StatusOr<Value> Evaluator::EvalTupleStep(const Node& step, const Value& input, const Value* tuples, const FramePtr& env) {
  if (step.type == NodeType::kSort) {
    Value result;
    if (tuples != nullptr) {
      ASSIGN_OR_RETURN(result, EvalSort(step, *tuples, env));
    } else {
      ASSIGN_OR_RETURN(Value sorted, EvalSort(step, input, env));
      std::vector<Value> stream;
      const std::vector<Value> single = sorted.is_array() ? std::vector<Value>{} : std::vector<Value>{sorted};
      const std::vector<Value>& items = sorted.is_array() ? sorted.items() : single;
      for (size_t i = 0; i < items.size(); ++i) {
        Value tuple = TupleWith(Value(), "@", items[i]);
        if (!step.index.empty()) tuple = TupleWith(tuple, step.index, Value(i));
        stream.push_back(std::move(tuple));
      }
      result = TupleStream(std::move(stream));
    }
    if (step.stages.empty()) return result;
    return EvalStages(step.stages, std::move(result), env);
  }

  std::vector<Value> bindings;
  if (tuples != nullptr) {
    if (tuples->is_array()) bindings = tuples->items();
  } else if (input.is_array()) {
    for (const Value& item : input.items()) bindings.push_back(TupleWith(Value(), "@", item));
  } else {
    bindings.push_back(TupleWith(Value(), "@", input));
  }
  std::vector<Value> out;
  for (const Value& tuple : bindings) {
    const Value context = TupleGet(tuple, "@");
    ASSIGN_OR_RETURN(Value value, Eval(step, context, FrameFromTuple(env, tuple)));
    if (value.undefined()) continue;
    const bool stream = IsTupleStream(value);
    const std::vector<Value> single = value.is_array() ? std::vector<Value>{} : std::vector<Value>{value};
    const std::vector<Value>& results = value.is_array() ? value.items() : single;
    for (size_t i = 0; i < results.size(); ++i) {
      Value next = tuple;
      if (stream) {
        if (results[i].is_object()) {
          for (const auto& [name, bound] : results[i].object().entries()) next = TupleWith(next, name, bound);
        }
      } else {
        if (!step.focus.empty()) {
          next = TupleWith(next, step.focus, results[i]);
        } else {
          next = TupleWith(next, "@", results[i]);
        }
        if (!step.index.empty()) next = TupleWith(next, step.index, Value(i));
        if (step.ancestor) next = TupleWith(next, step.ancestor->label, context);
      }
      out.push_back(std::move(next));
    }
  }
  Value result = TupleStream(std::move(out));
  if (step.stages.empty()) return result;
  return EvalStages(step.stages, std::move(result), env);
}

StatusOr<Value> Evaluator::EvalFilter(const Node& predicate, const Value& input, const FramePtr& env) {
  const bool tuple_stream = IsTupleStream(input);
  const std::vector<Value> single = input.is_array() ? std::vector<Value>{} : std::vector<Value>{input};
  const std::vector<Value>& items = input.is_array() ? input.items() : single;
  std::vector<Value> results;
  const auto size = static_cast<double>(items.size());
  if (predicate.type == NodeType::kNumber) {
    double index = std::floor(predicate.literal.number());
    if (index < 0) index += size;
    if (index >= 0 && index < size) {
      const Value& item = items[static_cast<size_t>(index)];
      if (!item.undefined()) {
        if (item.is_array()) return item;
        results.push_back(item);
      }
    }
    return WithTupleFlag(std::move(results), tuple_stream);
  }
  Value constant;
  if (predicate.constant) {
    ASSIGN_OR_RETURN(constant, Eval(predicate, Value(), env));
  }
  for (size_t index = 0; index < items.size(); ++index) {
    const Value& item = items[index];
    Value value;
    if (predicate.constant) {
      value = constant;
    } else {
      Value context = item;
      FramePtr frame = env;
      if (tuple_stream) {
        context = TupleGet(item, "@");
        frame = FrameFromTuple(env, item);
      }
      ASSIGN_OR_RETURN(value, Eval(predicate, context, frame));
    }
    if (value.is_number()) value = Value::Array({value});
    bool all_numbers = value.is_array();
    if (all_numbers) {
      for (const Value& n : value.items()) all_numbers = all_numbers && n.is_number() && !std::isnan(n.number());
    }
    if (all_numbers) {
      for (const Value& n : value.items()) {
        double wanted = std::floor(n.number());
        if (wanted < 0) wanted += size;
        if (wanted == static_cast<double>(index)) results.push_back(item);
      }
    } else if (Holds(value)) {
      results.push_back(item);
    }
  }
  return WithTupleFlag(std::move(results), tuple_stream);
}

StatusOr<Value> Evaluator::EvalGroup(const Pairs& pairs, const Value& input, const FramePtr& env, size_t) {
  const bool reduce = IsTupleStream(input);
  std::vector<Value> items = input.is_array() ? input.items() : std::vector<Value>{input};
  if (items.empty()) items.emplace_back();
  // A group's items: the first as it is; from the second on, the list $append would make (one
  // level of arrays flattened), gathered once rather than copied at every item.
  struct Group {
    Value first;
    std::vector<Value> members;
    bool several = false;
    size_t pair_index;
    Value data() const { return several ? Value::Array(members) : first; }
  };
  auto add_flat = [](std::vector<Value>& members, const Value& item) {
    if (item.is_array()) {
      members.insert(members.end(), item.items().begin(), item.items().end());
    } else {
      members.push_back(item);
    }
  };
  std::vector<std::pair<std::string, Group>> groups;
  std::unordered_map<std::string, size_t> group_index;
  for (const Value& item : items) {
    const FramePtr frame = reduce ? FrameFromTuple(env, item) : env;
    for (size_t p = 0; p < pairs.size(); ++p) {
      ASSIGN_OR_RETURN(Value key, Eval(*pairs[p].first, reduce ? TupleGet(item, "@") : item, frame));
      if (key.undefined()) continue;
      if (!key.is_string()) {
        return Error("T1003", "Key in object structure must evaluate to a string; got: " + Stringify(key));
      }
      auto found = group_index.find(key.string());
      if (found == group_index.end()) {
        group_index.emplace(key.string(), groups.size());
        groups.push_back({key.string(), Group{item, {}, false, p}});
        continue;
      }
      Group& group = groups[found->second].second;
      if (group.pair_index != p) {
        return Error("D1009", "Multiple key definitions evaluate to same key: " + Stringify(key));
      }
      if (item.undefined()) continue;
      if (!group.several) {
        if (group.first.undefined()) {
          group.first = item;
          continue;
        }
        add_flat(group.members, group.first);
        group.several = true;
      }
      add_flat(group.members, item);
    }
  }
  ObjectData result;
  for (auto& [key, group] : groups) {
    const Value data = group.data();
    Value context = data;
    FramePtr frame = env;
    if (reduce) {
      // The group's tuples merged: each binding becomes the sequence of its values.
      Value merged;
      if (data.is_array()) {
        for (const Value& tuple : data.items()) {
          if (merged.undefined()) {
            merged = tuple;
            continue;
          }
          for (const auto& [name, bound] : tuple.object().entries()) {
            merged = TupleWith(merged, name, Append(TupleGet(merged, name), bound));
          }
        }
      } else {
        merged = data;
      }
      context = TupleGet(merged, "@");
      ObjectData rest;
      if (merged.is_object()) {
        for (const auto& [name, bound] : merged.object().entries()) {
          if (name != "@") rest.Set(name, bound);
        }
      }
      frame = FrameFromTuple(env, Value::Object(std::move(rest)));
    }
    ASSIGN_OR_RETURN(Value value, Eval(*pairs[group.pair_index].second, context, frame));
    if (!value.undefined()) result.Set(key, std::move(value));
  }
  return Value::Object(std::move(result));
}

StatusOr<Value> Evaluator::EvalSort(const Node& expr, const Value& input, const FramePtr& env) {
  const bool tuple_sort = IsTupleStream(input);
  if (!input.is_array() || input.items().size() <= 1) return input;
  auto term_value = [&](const SortTerm& term, const Value& item) -> StatusOr<Value> {
    if (tuple_sort) return Eval(*term.expr, TupleGet(item, "@"), FrameFromTuple(env, item));
    return Eval(*term.expr, item, env);
  };
  auto after = [&](const Value& a, const Value& b) -> StatusOr<bool> {
    int comp = 0;
    for (size_t t = 0; comp == 0 && t < expr.terms.size(); ++t) {
      const SortTerm& term = expr.terms[t];
      ASSIGN_OR_RETURN(Value aa, term_value(term, a));
      ASSIGN_OR_RETURN(Value bb, term_value(term, b));
      if (aa.undefined()) {
        comp = bb.undefined() ? 0 : 1;
        continue;
      }
      if (bb.undefined()) {
        comp = -1;
        continue;
      }
      auto orderable = [](const Value& v) { return v.is_string() || v.is_number(); };
      if (!orderable(aa) || !orderable(bb)) {
        return Error("T2008", "The expressions within an order-by clause must evaluate to numeric or string values");
      }
      if (aa.type() != bb.type()) {
        return Error("T2007", "Type mismatch when comparing values " + Stringify(aa) + " and " + Stringify(bb) +
                                  " in order-by clause");
      }
      const bool less = aa.is_number() ? aa.number() < bb.number() : aa.string() < bb.string();
      const bool equal = aa.is_number() ? aa.number() == bb.number() : aa.string() == bb.string();
      if (equal) continue;
      comp = less ? -1 : 1;
      if (term.descending) comp = -comp;
    }
    return comp == 1;
  };
  std::vector<Value> items = input.items();
  if (Status s = internal::MergeSort(items, after); !s.ok()) return s;
  if (tuple_sort) return TupleStream(std::move(items));
  return Value::Array(std::move(items));
}

}  // namespace loam::jsonata
