#include "workflows/service_common.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/base64.h"
#include "common/strings.h"
#include "workflows/jsonata/jsonata.h"
#include "workflows/state_machine.h"

namespace loam::workflows {

StatusOr<ArnParts> ParseArn(const std::string& arn, std::string_view type, const WorkflowOptions& options) {
  const std::vector<std::string> parts = Split(arn, ':');
  auto invalid = [&](const std::string& why) {
    return TypedError(StatusCode::kInvalidArgument, kInvalidArn, fmt::format("Invalid Arn: '{}'", why));
  };
  if (parts.size() < 7 || parts[0] != "arn" || parts[2] != "states") return invalid(fmt::format("Resource type not valid in this context: {}", arn));
  ArnParts out;
  out.type = parts[5];
  const bool type_ok = out.type == type || (type == "execution" && out.type == "express");
  if (!type_ok) return invalid(fmt::format("Resource type not valid in this context: {}", out.type));
  if (parts[3] != options.region || parts[4] != options.account) return invalid(fmt::format("Resource not in this account and region: {}", arn));
  out.names.assign(parts.begin() + 6, parts.end());
  const size_t expected = type == "stateMachine" ? 1 : 2;
  if (out.names.size() != expected) return invalid(fmt::format("Resource name not valid: {}", arn));
  for (const auto& n : out.names) {
    if (n.empty()) return invalid(fmt::format("Resource name not valid: {}", arn));
  }
  return out;
}

Status CheckRoleArn(const std::string& arn) {
  const std::vector<std::string> parts = Split(arn, ':');
  const bool account = parts.size() >= 6 && parts[4].size() == 12 &&
                       parts[4].find_first_not_of("0123456789") == std::string::npos;
  if (parts.size() < 6 || parts[0] != "arn" || !StartsWith(parts[1], "aws") || parts[2] != "iam" || !parts[3].empty() ||
      !account || !StartsWith(parts[5], "role/") || parts[5].size() <= 5) {
    return TypedError(StatusCode::kInvalidArgument, kInvalidArn, fmt::format("Invalid Role Arn: '{}'", arn));
  }
  return Status::Ok();
}

Status CheckName(const std::string& name) {
  static constexpr std::string_view kForbidden = " <>{}[]?*\"#%\\^|~`$&,;:/";
  for (unsigned char c : name) {
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || kForbidden.find(static_cast<char>(c)) != std::string_view::npos) {
      return TypedError(StatusCode::kInvalidArgument, kInvalidName, fmt::format("Invalid Name: '{}'", name));
    }
  }
  return Status::Ok();
}

std::vector<jobs::Tag> AwsTags(const nlohmann::json& tags) {
  std::vector<jobs::Tag> out;
  for (const auto& t : tags) out.push_back({t.value("key", ""), t.value("value", "")});
  return out;
}

StatusOr<std::pair<size_t, size_t>> PageOf(const nlohmann::json& request) {
  size_t limit = 100;
  if (request.contains("maxResults") && request["maxResults"].get<int64_t>() > 0) {
    limit = static_cast<size_t>(std::min<int64_t>(request["maxResults"].get<int64_t>(), 1000));
  }
  size_t offset = 0;
  if (request.contains("nextToken")) {
    auto decoded = DecodeOffsetToken(request["nextToken"].get<std::string>());
    if (!decoded) return TypedError(StatusCode::kInvalidArgument, kInvalidToken, "Invalid Token: 'Invalid token'");
    offset = static_cast<size_t>(*decoded);
  }
  return std::pair{offset, limit};
}

namespace {

// "$name" in a path or an intrinsic call ("$$" is the context object, not a variable).
void NamesIn(const std::string& text, std::vector<std::string>& names) {
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '$') continue;
    if (text[i + 1] == '$') {
      ++i;
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(text[i + 1])) && text[i + 1] != '_') continue;
    size_t end = i + 1;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
    std::string name = text.substr(i + 1, end - i - 1);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
    i = end - 1;
  }
}

bool IsPathField(const std::string& key) {
  return EndsWith(key, ".$") || EndsWith(key, "Path") || key == "Variable";
}

// The names a state's own fields read; nested machines are their states' business.
void NamesInState(const nlohmann::json& node, std::vector<std::string>& names) {
  if (node.is_array()) {
    for (const auto& item : node) NamesInState(item, names);
    return;
  }
  if (!node.is_object()) return;
  for (const auto& [key, value] : node.items()) {
    if (key == "Branches" || key == "ItemProcessor" || key == "Iterator" || key == "ResultPath") continue;
    if (const auto text = JsonataExpressionIn(value)) {
      if (auto expression = jsonata::CachedExpression(*text); expression.ok()) {
        for (const std::string& name : (*expression)->FreeVariables()) {
          if (name != "states" && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
        }
      }
    } else if (value.is_string() && IsPathField(key)) {
      NamesIn(value.get<std::string>(), names);
    } else if (value.is_structured()) {
      NamesInState(value, names);
    }
  }
}

void AddMachineReferences(const nlohmann::json& machine, nlohmann::json& out) {
  if (!machine.is_object() || !machine.contains("States") || !machine["States"].is_object()) return;
  for (const auto& [name, state] : machine["States"].items()) {
    std::vector<std::string> names;
    NamesInState(state, names);
    std::sort(names.begin(), names.end());
    if (!names.empty()) out[name] = names;
    for (const auto& branch : state.value("Branches", nlohmann::json::array())) AddMachineReferences(branch, out);
    if (state.contains("ItemProcessor")) AddMachineReferences(state["ItemProcessor"], out);
    if (state.contains("Iterator")) AddMachineReferences(state["Iterator"], out);
  }
}

}  // namespace

nlohmann::json VariableReferences(const nlohmann::json& definition) {
  nlohmann::json out = nlohmann::json::object();
  AddMachineReferences(definition, out);
  return out;
}

}  // namespace loam::workflows
