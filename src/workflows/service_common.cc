#include "workflows/service_common.h"

#include <fmt/format.h>

#include "common/strings.h"

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
    const std::string token = request["nextToken"].get<std::string>();
    const bool numeric = !token.empty() && token.size() < 10 && token.find_first_not_of("0123456789") == std::string::npos;
    if (!numeric) return TypedError(StatusCode::kInvalidArgument, kInvalidToken, "Invalid Token: 'Invalid token'");
    offset = std::stoul(token);
  }
  return std::pair{offset, limit};
}

}  // namespace loam::workflows
