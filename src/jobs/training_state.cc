#include "jobs/training_state.h"

#include <fmt/format.h>

namespace loam::jobs {

std::string DuplicateJobMessage(const std::string& arn) {
  return fmt::format(
      "Training job names must be unique within an AWS account and region, and a training job with this name "
      "already exists ({})",
      arn);
}

void AddTransition(nlohmann::json& doc, const std::string& status, const std::string& message, double now) {
  auto& transitions = doc["SecondaryStatusTransitions"];
  if (!transitions.is_array()) transitions = nlohmann::json::array();
  if (!transitions.empty() && !transitions.back().contains("EndTime")) transitions.back()["EndTime"] = now;
  transitions.push_back({{"Status", status}, {"StartTime", now}, {"StatusMessage", message}});
  doc["SecondaryStatus"] = status;
}

nlohmann::json PublicView(const nlohmann::json& doc) {
  nlohmann::json out = doc;
  out.erase("_loam");
  return out;
}

}  // namespace loam::jobs
