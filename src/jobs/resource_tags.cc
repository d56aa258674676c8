#include "jobs/resource_tags.h"

#include <fmt/format.h>

namespace loam::jobs {

using nlohmann::json;

Status ResourceTags::CheckExists(const std::string& arn) {
  ASSIGN_OR_RETURN(bool exists, store_->JobArnExists(arn));
  if (!exists) return NotFound(fmt::format("Resource {} not found.", arn));
  return Status::Ok();
}

StatusOr<json> ResourceTags::Add(const json& request) {
  const std::string arn = request["ResourceArn"].get<std::string>();
  RETURN_IF_ERROR(CheckExists(arn));
  std::vector<Tag> tags;
  for (const auto& t : request["Tags"]) tags.push_back({t["Key"].get<std::string>(), t.value("Value", "")});
  for (const auto& t : tags) {
    if (t.key.rfind("aws:", 0) == 0) return InvalidArgument("Tag keys beginning with 'aws:' are reserved for AWS use.");
  }
  RETURN_IF_ERROR(store_->AddTags(arn, tags));
  json out = json::array();
  for (const auto& t : tags) out.push_back({{"Key", t.key}, {"Value", t.value}});
  return json{{"Tags", out}};
}

StatusOr<json> ResourceTags::List(const json& request) {
  const std::string arn = request["ResourceArn"].get<std::string>();
  RETURN_IF_ERROR(CheckExists(arn));
  ASSIGN_OR_RETURN(auto tags, store_->ListTags(arn));
  size_t offset = 0;
  if (request.contains("NextToken")) {
    const std::string token = request["NextToken"].get<std::string>();
    bool numeric = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos && token.size() < 10;
    if (!numeric) return InvalidArgument("Invalid pagination token.");
    offset = std::stoul(token);
  }
  size_t limit = static_cast<size_t>(request.value("MaxResults", 50));
  json out = json::array();
  for (size_t i = offset; i < tags.size() && i < offset + limit; ++i) {
    out.push_back({{"Key", tags[i].key}, {"Value", tags[i].value}});
  }
  json reply = {{"Tags", out}};
  if (offset + limit < tags.size()) reply["NextToken"] = std::to_string(offset + limit);
  return reply;
}

StatusOr<json> ResourceTags::Delete(const json& request) {
  const std::string arn = request["ResourceArn"].get<std::string>();
  RETURN_IF_ERROR(CheckExists(arn));
  RETURN_IF_ERROR(store_->DeleteTags(arn, request["TagKeys"].get<std::vector<std::string>>()));
  return json::object();
}

}  // namespace loam::jobs
