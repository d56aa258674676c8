// Small pieces of a training job's document shared by the service and its workers.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <thread>

namespace loam::jobs {

std::string DuplicateJobMessage(const std::string& arn);

// Closes the current SecondaryStatusTransitions entry and opens `status`.
void AddTransition(nlohmann::json& doc, const std::string& status, const std::string& message, double now);

// The Describe response: the document without Loam's private bookkeeping.
nlohmann::json PublicView(const nlohmann::json& doc);

}  // namespace loam::jobs
