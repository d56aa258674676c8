#include "workflows/task_integration.h"

#include "common/strings.h"

namespace loam::workflows {

namespace {

constexpr std::string_view kArnPrefix = "arn:aws:states:::";

}  // namespace

std::optional<TaskResource> ParseTaskResource(const std::string& arn) {
  if (!StartsWith(arn, kArnPrefix)) return std::nullopt;
  std::string rest = arn.substr(kArnPrefix.size());
  TaskResource r;
  for (auto [suffix, pattern] : {std::pair{std::string_view(".sync"), IntegrationPattern::kSync},
                                 std::pair{std::string_view(".waitForTaskToken"), IntegrationPattern::kWaitForTaskToken}}) {
    if (EndsWith(rest, suffix)) {
      rest.resize(rest.size() - suffix.size());
      r.pattern = pattern;
      break;
    }
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return std::nullopt;
  r.service = rest.substr(0, colon);
  r.action = rest.substr(colon + 1);
  return r;
}

std::string TaskResource::resource_type() const { return service; }

std::string TaskResource::resource() const {
  switch (pattern) {
    case IntegrationPattern::kSync: return action + ".sync";
    case IntegrationPattern::kWaitForTaskToken: return action + ".waitForTaskToken";
    case IntegrationPattern::kRequestResponse: break;
  }
  return action;
}

}  // namespace loam::workflows
