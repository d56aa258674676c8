// The States Language conformance suite: every file in tests/conformance/asl is one case, a
// definition with its input and what Step Functions gives for it (see that directory's
// README.md). A new case is a new file; this runner never changes for it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "workflows/state_machine.h"
#include "workflows/timestamps.h"

namespace loam::workflows {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(LOAM_ASL_CASES_DIR)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class AslConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(AslConformance, BehavesAsStepFunctions) {
  const fs::path file = fs::path(LOAM_ASL_CASES_DIR) / (GetParam() + ".json");
  std::ifstream in(file);
  const json c = json::parse(in);
  const json& expect = c.at("expect");
  Status valid = ValidateDefinition(c.at("definition"));
  if (expect.contains("invalid_definition")) {
    ASSERT_FALSE(valid.ok()) << "the definition was accepted";
    EXPECT_NE(valid.message().find(expect["invalid_definition"].get<std::string>()), std::string::npos)
        << valid.message();
    EXPECT_EQ(valid.message().rfind("Invalid State Machine Definition: '", 0), 0u) << valid.message();
    return;
  }
  ASSERT_TRUE(valid.ok()) << valid.message();

  // A virtual clock: Wait advances it instead of sleeping.
  int64_t now_ms = c.contains("now") ? *ParseTimestamp(c["now"].get<std::string>()) / 1000 : 0;
  int64_t waited_ms = 0;
  ExecutionEnvironment env;
  env.context = c.value("context", json::object());
  env.now_ms = [&] { return now_ms; };
  env.sleep = [&](std::chrono::milliseconds d) {
    now_ms += d.count();
    waited_ms += d.count();
  };
  if (c.contains("max_events")) env.max_events = c["max_events"].get<size_t>();
  ExecutionResult r = Execute(c.at("definition"), c.value("input", json::object()), env);

  const std::string status = r.status == ExecutionResult::Status::kSucceeded ? "SUCCEEDED" : "FAILED";
  EXPECT_EQ(status, expect.at("status").get<std::string>()) << r.error << ": " << r.cause;
  if (expect.contains("output")) {
    EXPECT_EQ(r.output, expect["output"]);
  }
  if (expect.contains("error")) {
    EXPECT_EQ(r.error, expect["error"].get<std::string>());
  }
  if (expect.contains("cause")) {
    EXPECT_EQ(r.cause, expect["cause"].get<std::string>());
  }
  if (expect.contains("cause_contains")) {
    EXPECT_NE(r.cause.find(expect["cause_contains"].get<std::string>()), std::string::npos) << r.cause;
  }
  if (expect.contains("waited_seconds")) {
    EXPECT_EQ(waited_ms, expect["waited_seconds"].get<int64_t>() * 1000);
  }
  if (c.contains("events")) {
    std::vector<std::string> types;
    for (const auto& e : r.events) types.push_back(e.type);
    EXPECT_EQ(json(types), c["events"]);
  }
  for (size_t i = 0; i < r.events.size(); ++i) {
    EXPECT_EQ(r.events[i].id, static_cast<int64_t>(i) + 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, AslConformance, ::testing::ValuesIn(CaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace loam::workflows
