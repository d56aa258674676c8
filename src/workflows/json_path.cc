#include "workflows/json_path.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <unordered_map>

namespace loam::workflows {

using nlohmann::json;

namespace {

StatusOr<int64_t> ParseInt(std::string_view text, std::string_view path) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgument(fmt::format("The path '{}' has an invalid index '{}'", path, text));
  }
  return value;
}

// The index a (possibly negative) position names in a list of `size`, or -1.
int64_t Resolve(int64_t index, size_t size) {
  const auto n = static_cast<int64_t>(size);
  if (index < 0) index += n;
  return index >= 0 && index < n ? index : -1;
}

// "@.a.b == 'x'" (inside "[?( ... )]"): a reference path from the item, and an optional
// comparison with a literal (a quoted string, a number, true, false or null).
Status ParseFilter(std::string_view inside, std::string_view path, PathStep& step) {
  size_t op_at = std::string_view::npos;
  char quote = 0;
  for (size_t k = 0; k < inside.size() && op_at == std::string_view::npos; ++k) {
    const char c = inside[k];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      op_at = k;
    }
  }
  std::string_view lhs = inside.substr(0, op_at);
  while (!lhs.empty() && lhs.back() == ' ') lhs.remove_suffix(1);
  while (!lhs.empty() && lhs.front() == ' ') lhs.remove_prefix(1);
  if (lhs.empty() || lhs.front() != '@') {
    return InvalidArgument(fmt::format("The path '{}' has a filter that does not start with '@'", path));
  }
  ASSIGN_OR_RETURN(JsonPath item, ParsePath("$" + std::string(lhs.substr(1))));
  if (!item.IsReference()) return InvalidArgument(fmt::format("The path '{}' has a filter over more than one node", path));
  step.kind = PathStep::Kind::kFilter;
  step.filter_path = std::move(item.steps);
  if (op_at == std::string_view::npos) return Status::Ok();
  const size_t op_len = op_at + 1 < inside.size() && inside[op_at + 1] == '=' ? 2 : 1;
  step.filter_op = std::string(inside.substr(op_at, op_len));
  if (step.filter_op == "=" || step.filter_op == "!") {
    return InvalidArgument(fmt::format("The path '{}' has a filter with an unknown operator", path));
  }
  std::string rhs(inside.substr(op_at + op_len));
  rhs.erase(0, rhs.find_first_not_of(' '));
  rhs.erase(rhs.find_last_not_of(' ') + 1);
  if (rhs.size() >= 2 && rhs.front() == '\'' && rhs.back() == '\'') {
    step.filter_value = rhs.substr(1, rhs.size() - 2);
    return Status::Ok();
  }
  step.filter_value = json::parse(rhs, nullptr, /*allow_exceptions=*/false);
  if (step.filter_value.is_discarded() || step.filter_value.is_structured()) {
    return InvalidArgument(fmt::format("The path '{}' has a filter with an invalid value '{}'", path, rhs));
  }
  return Status::Ok();
}

bool FilterMatches(const json& item, const PathStep& step) {
  JsonPath relative;
  relative.steps = step.filter_path;
  auto v = Select(item, relative);
  if (!v.ok()) return false;
  if (step.filter_op.empty()) return true;
  const json& a = *v;
  const json& b = step.filter_value;
  if (step.filter_op == "==") return a == b;
  if (step.filter_op == "!=") return a != b;
  const bool comparable = (a.is_number() && b.is_number()) || (a.is_string() && b.is_string());
  if (!comparable) return false;
  if (step.filter_op == "<") return a < b;
  if (step.filter_op == "<=") return a <= b;
  if (step.filter_op == ">") return a > b;
  return a >= b;
}

}  // namespace

bool JsonPath::IsReference() const {
  for (const auto& s : steps) {
    if (s.kind == PathStep::Kind::kWildcard || s.kind == PathStep::Kind::kSlice || s.kind == PathStep::Kind::kFilter) return false;
  }
  return true;
}

StatusOr<JsonPath> ParsePath(std::string_view text) {
  JsonPath path;
  path.text = std::string(text);
  size_t i = 0;
  auto name_char = [](char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (!first && std::isdigit(static_cast<unsigned char>(c)));
  };
  if (text.substr(0, 2) == "$$") {
    path.context = true;
    i = 2;
  } else if (text.size() > 1 && text[0] == '$' && name_char(text[1], true)) {
    i = 1;
    while (i < text.size() && name_char(text[i], false)) ++i;
    path.variable = std::string(text.substr(1, i - 1));
    if (i < text.size() && text[i] != '.' && text[i] != '[') {
      return InvalidArgument(fmt::format("The path '{}' has an invalid variable name", text));
    }
  } else if (text.substr(0, 1) == "$") {
    i = 1;
  } else {
    return InvalidArgument(fmt::format("The path '{}' must begin with '$'", text));
  }
  while (i < text.size()) {
    PathStep step;
    if (text[i] == '.') {
      ++i;
      if (i < text.size() && text[i] == '*') {
        step.kind = PathStep::Kind::kWildcard;
        ++i;
      } else {
        size_t end = i;
        while (end < text.size() && text[end] != '.' && text[end] != '[') ++end;
        if (end == i) return InvalidArgument(fmt::format("The path '{}' has an empty field name at position {}", text, i));
        step.field = std::string(text.substr(i, end - i));
        i = end;
      }
    } else if (text[i] == '[') {
      ++i;
      if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
        const char quote = text[i++];
        std::string name;
        while (i < text.size() && text[i] != quote) {
          if (text[i] == '\\' && i + 1 < text.size()) ++i;
          name += text[i++];
        }
        if (i + 1 >= text.size() || text[i + 1] != ']') {
          return InvalidArgument(fmt::format("The path '{}' has an unterminated bracket", text));
        }
        i += 2;
        step.field = std::move(name);
      } else if (i < text.size() && text[i] == '?') {
        // "[?( ... )]": the expression runs to the ")]" outside quotes.
        if (i + 1 >= text.size() || text[i + 1] != '(') return InvalidArgument(fmt::format("The path '{}' has a filter without '('", text));
        size_t k = i + 2;
        char quote = 0;
        for (; k + 1 < text.size(); ++k) {
          if (quote) {
            if (text[k] == quote) quote = 0;
          } else if (text[k] == '\'' || text[k] == '"') {
            quote = text[k];
          } else if (text[k] == ')' && text[k + 1] == ']') {
            break;
          }
        }
        if (k + 1 >= text.size()) return InvalidArgument(fmt::format("The path '{}' has an unterminated filter", text));
        RETURN_IF_ERROR(ParseFilter(text.substr(i + 2, k - i - 2), text, step));
        i = k + 2;
      } else {
        const size_t close = text.find(']', i);
        if (close == std::string_view::npos) return InvalidArgument(fmt::format("The path '{}' has an unterminated bracket", text));
        const std::string_view inside = text.substr(i, close - i);
        i = close + 1;
        if (inside == "*") {
          step.kind = PathStep::Kind::kWildcard;
        } else if (const size_t colon = inside.find(':'); colon != std::string_view::npos) {
          step.kind = PathStep::Kind::kSlice;
          if (colon > 0) {
            ASSIGN_OR_RETURN(step.from, ParseInt(inside.substr(0, colon), text));
          }
          if (colon + 1 < inside.size()) {
            ASSIGN_OR_RETURN(step.to, ParseInt(inside.substr(colon + 1), text));
          }
        } else {
          step.kind = PathStep::Kind::kIndex;
          ASSIGN_OR_RETURN(step.index, ParseInt(inside, text));
        }
      }
    } else {
      return InvalidArgument(fmt::format("The path '{}' has an unexpected '{}' at position {}", text, text[i], i));
    }
    path.steps.push_back(std::move(step));
  }
  return path;
}

StatusOr<std::shared_ptr<const JsonPath>> CachedPath(std::string_view text) {
  thread_local std::unordered_map<std::string, std::shared_ptr<const JsonPath>> cache;
  if (auto it = cache.find(std::string(text)); it != cache.end()) return it->second;
  ASSIGN_OR_RETURN(JsonPath parsed, ParsePath(text));
  if (cache.size() >= 4096) cache.clear();  // bounded: definitions hold few paths, data-made ones are rare
  auto path = std::make_shared<const JsonPath>(std::move(parsed));
  cache.emplace(std::string(text), path);
  return path;
}

StatusOr<json> SelectFrom(const json& data, const PathRoots& roots, const JsonPath& path) {
  static const json kNoContext = json::object();
  if (path.context) return Select(roots.context ? *roots.context : kNoContext, path);  // no copy of the context
  if (path.variable.empty()) return Select(data, path);
  const json* value = roots.variable ? roots.variable(path.variable) : nullptr;
  if (!value) return NotFound(fmt::format("The variable '${}' is not defined", path.variable));
  return Select(*value, path);
}

StatusOr<json> Select(const json& root, const JsonPath& path) {
  std::vector<const json*> current = {&root};
  bool multi = false;
  for (const PathStep& step : path.steps) {
    std::vector<const json*> next;
    for (const json* node : current) {
      switch (step.kind) {
        case PathStep::Kind::kField:
          if (node->is_object() && node->contains(step.field)) {
            next.push_back(&(*node)[step.field]);
          } else if (!multi) {
            return NotFound(fmt::format("The JSONPath '{}' could not be found in the input", path.text));
          }
          break;
        case PathStep::Kind::kIndex: {
          const int64_t at = node->is_array() ? Resolve(step.index, node->size()) : -1;
          if (at >= 0) {
            next.push_back(&(*node)[static_cast<size_t>(at)]);
          } else if (!multi) {
            return NotFound(fmt::format("The JSONPath '{}' could not be found in the input", path.text));
          }
          break;
        }
        case PathStep::Kind::kWildcard:
          if (node->is_array() || node->is_object()) {
            for (const auto& item : *node) next.push_back(&item);
          }
          break;
        case PathStep::Kind::kSlice:
          if (node->is_array()) {
            const auto n = static_cast<int64_t>(node->size());
            int64_t from = step.from.value_or(0), to = step.to.value_or(n);
            if (from < 0) from = std::max<int64_t>(0, from + n);
            if (to < 0) to = std::max<int64_t>(0, to + n);
            for (int64_t k = from; k < std::min(to, n); ++k) next.push_back(&(*node)[static_cast<size_t>(k)]);
          }
          break;
        case PathStep::Kind::kFilter:
          if (node->is_array() || node->is_object()) {
            for (const auto& item : *node) {
              if (FilterMatches(item, step)) next.push_back(&item);
            }
          }
          break;
      }
    }
    if (step.kind != PathStep::Kind::kField && step.kind != PathStep::Kind::kIndex) multi = true;
    current = std::move(next);
  }
  if (!multi) return *current.front();
  json out = json::array();
  for (const json* node : current) out.push_back(*node);
  return out;
}

Status Assign(json& root, const JsonPath& path, json value) {
  if (!path.IsReference() || path.context || !path.variable.empty()) {
    return InvalidArgument(fmt::format("'{}' is not a Reference Path into the state's input", path.text));
  }
  json* node = &root;
  for (const PathStep& step : path.steps) {
    if (step.kind == PathStep::Kind::kField) {
      if (node->is_null()) *node = json::object();
      if (!node->is_object()) {
        return InvalidArgument(fmt::format("Unable to apply step \"{}\" to input {}", step.field, node->dump(-1, ' ', false, kReplaceInvalid)));
      }
      node = &(*node)[step.field];
    } else {
      const int64_t at = node->is_array() ? Resolve(step.index, node->size()) : -1;
      if (at < 0) return InvalidArgument(fmt::format("Unable to apply index {} to input {}", step.index, node->dump(-1, ' ', false, kReplaceInvalid)));
      node = &(*node)[static_cast<size_t>(at)];
    }
  }
  *node = std::move(value);
  return Status::Ok();
}

}  // namespace loam::workflows
