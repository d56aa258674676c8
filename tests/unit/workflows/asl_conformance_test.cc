// The States Language conformance suite: every file in tests/conformance/asl is one case, a
// definition with its input and what Step Functions gives for it (see that directory's
// README.md). A new case is a new file; this runner never changes for it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "case_files.h"
#include "workflows/state_machine.h"
#include "workflows/timestamps.h"

namespace loam::workflows {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The case's "tasks": what each Task state's call answers, in order of the calls. The
// integration is scripted because the interpreter, not a service, is under test here; the
// SageMaker integration is tested end to end against real jobs.
class ScriptedTasks final : public TaskIntegration {
 public:
  ScriptedTasks(json script, int64_t& now_ms) : script_(std::move(script)), now_ms_(now_ms) {}

  std::optional<std::string> Problem(const TaskResource&) const override { return std::nullopt; }

  TaskOutcome Call(const TaskResource& resource, const json& parameters, bool) override {
    calls.push_back({{"resource", resource.resource_type() + ":" + resource.resource()}, {"parameters", parameters}});
    if (next_ >= script_.size()) return TaskOutcome::Failure("Test.NoScript", "the case scripts fewer task calls");
    current_ = script_[next_++];
    polls_left_ = current_.value("polls", 0);
    if (resource.pattern != IntegrationPattern::kRequestResponse && current_.contains("submitted")) {
      return TaskOutcome::Success(current_["submitted"]);
    }
    return Answer();
  }

  std::optional<TaskOutcome> Poll(const TaskResource&, const json&, const json&) override {
    if (polls_left_-- > 0) return std::nullopt;
    return Answer();
  }

  void Stop(const TaskResource&, const json&, const json&) override { ++stopped; }

  // A waitForTaskToken answer: "answer_after_seconds" on the virtual clock, unless the task's
  // timeout or heartbeat runs out first.
  TokenAnswer Await(const std::string& token, int64_t deadline_ms, int64_t heartbeat_seconds) {
    const int64_t after_ms = current_.value("answer_after_seconds", 0) * 1000;
    tokens.push_back(token);
    if (heartbeat_seconds > 0 && after_ms > heartbeat_seconds * 1000) {
      now_ms_ += heartbeat_seconds * 1000;
      return {TokenAnswer::Kind::kHeartbeatTimedOut, nullptr, "", ""};
    }
    if (now_ms_ + after_ms > deadline_ms) {
      now_ms_ = deadline_ms;
      return {TokenAnswer::Kind::kTimedOut, nullptr, "", ""};
    }
    now_ms_ += after_ms;
    TaskOutcome o = Answer();
    if (o.ok) return {TokenAnswer::Kind::kSucceeded, o.output, "", ""};
    return {TokenAnswer::Kind::kFailed, nullptr, o.error, o.cause};
  }

  json calls = json::array();
  std::vector<std::string> tokens;
  int stopped = 0;

 private:
  TaskOutcome Answer() const {
    if (current_.contains("error")) return TaskOutcome::Failure(current_["error"].get<std::string>(), current_.value("cause", ""));
    return TaskOutcome::Success(current_.value("output", json::object()));
  }

  json script_;
  int64_t& now_ms_;
  size_t next_ = 0;
  json current_;
  int polls_left_ = 0;
};

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
  ScriptedTasks tasks(c.value("tasks", json::array()), now_ms);
  env.tasks = &tasks;
  env.task_token_seed = "token-";
  env.await_token = [&](const std::string& token, int64_t deadline_ms, int64_t heartbeat) {
    return tasks.Await(token, deadline_ms, heartbeat);
  };
  ExecutionResult r = Execute(c.at("definition"), c.value("input", json::object()), env);

  const char* kStatusNames[] = {"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT", "INTERRUPTED"};
  const std::string status = kStatusNames[static_cast<int>(r.status)];
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
  if (expect.contains("assigned")) {
    // Each StateExited that assigned variables: the state and its variables as JSON text.
    json assigned = json::array();
    for (const auto& e : r.events) {
      if (e.details.contains("assignedVariables")) {
        assigned.push_back({{"state", e.details["name"]}, {"variables", e.details["assignedVariables"]}});
      }
    }
    EXPECT_EQ(assigned, expect["assigned"]);
  }
  if (expect.contains("calls")) {
    EXPECT_EQ(tasks.calls, expect["calls"]);
  }
  if (expect.contains("stopped_jobs")) {
    EXPECT_EQ(tasks.stopped, expect["stopped_jobs"].get<int>());
  }
  // A token handed to a task's parameters is the one its wait is answered on.
  for (size_t i = 0; i < tasks.tokens.size(); ++i) {
    const std::string dumped = tasks.calls.dump();
    EXPECT_NE(dumped.find(tasks.tokens[i]), std::string::npos) << "token " << tasks.tokens[i] << " was not passed to any call";
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

INSTANTIATE_TEST_SUITE_P(Cases, AslConformance, ::testing::ValuesIn(loam::testing::JsonCaseNames(LOAM_ASL_CASES_DIR)),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace loam::workflows
