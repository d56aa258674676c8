// Resuming an execution from its recorded history: for every point at which a server could
// stop, an execution resumed from the events recorded up to there ends exactly as an
// uninterrupted one, and no task call whose answer was recorded is made again.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>

#include "workflows/state_machine.h"

namespace loam::workflows {
namespace {

using nlohmann::json;

// Jobs that finish on their second poll; request-response calls echo their parameters.
class CountingTasks final : public TaskIntegration {
 public:
  std::optional<std::string> Problem(const TaskResource&) const override { return std::nullopt; }
  TaskOutcome Call(const TaskResource& resource, const json& parameters, bool resumed) override {
    ++calls;
    if (resumed) ++resumed_calls;
    if (resource.pattern == IntegrationPattern::kRequestResponse) return TaskOutcome::Success({{"Echo", parameters}});
    return TaskOutcome::Success({{"JobArn", "arn:" + parameters.value("Name", std::string("token"))}});
  }
  std::optional<TaskOutcome> Poll(const TaskResource&, const json& parameters, const json& submitted) override {
    if (polled.insert(submitted.dump()).second) return std::nullopt;
    return TaskOutcome::Success({{"Status", "Completed"}, {"Name", parameters["Name"]}, {"Id", parameters.value("Id", json())}});
  }
  void Stop(const TaskResource&, const json&, const json&) override { ++stops; }

  int calls = 0, resumed_calls = 0, stops = 0;
  std::set<std::string> polled;
};

const json kDefinition = json::parse(R"asl({
  "StartAt": "Id",
  "States": {
    "Id": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()", "names.$": "$.names"},
           "Assign": {"tag.$": "States.UUID()"}, "Next": "Train"},
    "Train": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
              "Parameters": {"Name": "train", "Id.$": "States.UUID()"}, "ResultPath": "$.train", "Next": "Pause"},
    "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Each"},
    "Each": {"Type": "Map", "ItemsPath": "$.names", "ResultPath": "$.each",
             "ItemProcessor": {"StartAt": "Describe", "States": {
               "Describe": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeModel",
                            "Parameters": {"ModelName.$": "$"}, "Retry": [{"ErrorEquals": ["States.ALL"]}], "End": true}}},
             "Next": "Approve"},
    "Approve": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"Token.$": "$$.Task.Token"}, "ResultPath": "$.approval", "Next": "Good?"},
    "Good?": {"Type": "Choice", "Choices": [{"Variable": "$.approval.ok", "BooleanEquals": true, "Next": "Deploy"}],
              "Default": "Rejected"},
    "Deploy": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createEndpoint",
               "Parameters": {"EndpointName": "e", "Tag.$": "$tag"}, "ResultPath": "$.endpoint", "End": true},
    "Rejected": {"Type": "Fail", "Error": "Rejected"}
  }
})asl");

struct Outcome {
  ExecutionResult result;
  int calls = 0, resumed_calls = 0;
};

Outcome RunOnce(const std::vector<HistoryEvent>& recorded) {
  int64_t now = 1'700'000'000'000;
  CountingTasks tasks;
  ExecutionEnvironment env;
  env.now_ms = [&] { return now += 3; };
  env.sleep = [&](std::chrono::milliseconds d) { now += d.count(); };
  env.tasks = &tasks;
  env.task_token_seed = "seed";
  env.await_token = [](const std::string& token, int64_t, int64_t) {
    return TokenAnswer{TokenAnswer::Kind::kSucceeded, {{"ok", true}, {"token", token}}, "", ""};
  };
  env.recorded = recorded;
  Outcome o;
  o.result = Execute(kDefinition, json{{"names", {"a", "b"}}}, env);
  o.calls = tasks.calls;
  o.resumed_calls = tasks.resumed_calls;
  return o;
}

std::vector<std::string> Types(const std::vector<HistoryEvent>& events) {
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e.type);
  return types;
}

TEST(ResumeTest, EveryCutResumesToTheSameEndWithoutRepeatingAnsweredCalls) {
  ASSERT_TRUE(ValidateDefinition(kDefinition).ok());
  const Outcome full = RunOnce({});
  ASSERT_EQ(full.result.status, ExecutionResult::Status::kSucceeded) << full.result.error << ": " << full.result.cause;
  EXPECT_EQ(full.calls, 5);  // train, two describes, the token task, the endpoint
  EXPECT_EQ(full.result.output["endpoint"]["Echo"]["Tag"].get<std::string>().size(), 36u);  // the variable's UUID
  EXPECT_EQ(full.result.output["approval"]["token"].get<std::string>().rfind("seed", 0), 0u);
  const auto& events = full.result.events;
  ASSERT_EQ(events.size(), 43u);  // every cut below is a distinct resume
  for (size_t cut = 1; cut < events.size(); ++cut) {
    std::vector<HistoryEvent> recorded(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(cut));
    // A call is answered once its TaskSubmitted (.sync, token) or TaskSucceeded is recorded.
    int answered = 0;
    for (const auto& e : recorded) {
      const bool submits = e.details.value("resource", std::string()).find('.') != std::string::npos;
      answered += e.type == (submits ? "TaskSubmitted" : "TaskSucceeded");
    }
    const Outcome resumed = RunOnce(recorded);
    SCOPED_TRACE("resumed after event " + std::to_string(cut) + " (" + events[cut - 1].type + ")");
    ASSERT_EQ(resumed.result.status, ExecutionResult::Status::kSucceeded) << resumed.result.cause;
    EXPECT_EQ(Types(resumed.result.events), Types(events));
    EXPECT_EQ(resumed.calls, full.calls - answered);
    EXPECT_EQ(resumed.resumed_calls, events[cut - 1].type == "TaskStarted" ? 1 : 0);
    for (size_t i = 0; i < cut; ++i) EXPECT_EQ(resumed.result.events[i].timestamp_ms, events[i].timestamp_ms);
    json expected = full.result.output;
    json got = resumed.result.output;
    // The UUID is only the original one once the state that drew it was recorded as exited.
    bool id_recorded = false;
    for (const auto& e : recorded) id_recorded = id_recorded || (e.type == "PassStateExited" && e.details["name"] == "Id");
    if (!id_recorded) {
      expected.erase("id");
      got.erase("id");
      expected["endpoint"]["Echo"].erase("Tag");
      got["endpoint"]["Echo"].erase("Tag");
    }
    // The training call's parameters are the recorded ones once it was scheduled.
    bool train_scheduled = false;
    for (const auto& e : recorded) train_scheduled = train_scheduled || e.type == "TaskScheduled";
    if (!train_scheduled) {
      expected["train"].erase("Id");
      got["train"].erase("Id");
    }
    EXPECT_EQ(got, expected);
  }
}

// Fails its first call, then answers.
class FlakyTasks final : public TaskIntegration {
 public:
  std::optional<std::string> Problem(const TaskResource&) const override { return std::nullopt; }
  TaskOutcome Call(const TaskResource&, const json&, bool) override {
    return ++calls == 1 ? TaskOutcome::Failure("Flaky", "first call") : TaskOutcome::Success({{"ok", true}});
  }
  std::optional<TaskOutcome> Poll(const TaskResource&, const json&, const json&) override { return std::nullopt; }
  void Stop(const TaskResource&, const json&, const json&) override {}
  int calls = 0;
};

TEST(ResumeTest, ARetryIntervalRunningAtTheCrashIsWaitedOnlyForWhatIsLeft) {
  const json definition = json::parse(R"({"StartAt": "T", "States": {"T": {
      "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:listModels", "Parameters": {},
      "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 10}], "End": true}}})");
  auto run = [&](int64_t start_ms, const std::vector<HistoryEvent>& recorded, int64_t& waited_ms) {
    int64_t now = start_ms;
    FlakyTasks tasks;
    tasks.calls = recorded.empty() ? 0 : 1;  // the first call happened before the restart
    ExecutionEnvironment env;
    env.now_ms = [&] { return now; };
    env.sleep = [&](std::chrono::milliseconds d) {
      now += d.count();
      waited_ms += d.count();
    };
    env.tasks = &tasks;
    env.recorded = recorded;
    return Execute(definition, json::object(), env);
  };
  int64_t waited = 0;
  const ExecutionResult full = run(1'000'000, {}, waited);
  ASSERT_EQ(full.status, ExecutionResult::Status::kSucceeded);
  EXPECT_EQ(waited, 10'000);
  // The server stops right after the failure is recorded and starts again 4 s later.
  size_t cut = 0;
  while (full.events[cut].type != "TaskFailed") ++cut;
  std::vector<HistoryEvent> recorded(full.events.begin(), full.events.begin() + static_cast<std::ptrdiff_t>(cut) + 1);
  waited = 0;
  const ExecutionResult resumed = run(full.events[cut].timestamp_ms + 4'000, recorded, waited);
  ASSERT_EQ(resumed.status, ExecutionResult::Status::kSucceeded);
  EXPECT_EQ(waited, 6'000);
}

}  // namespace
}  // namespace loam::workflows
