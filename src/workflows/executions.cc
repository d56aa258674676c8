// The execution operations of the Step Functions API: start (also synchronously, for Express
// machines), describe, stop, list, history. execution_runtime.cc runs them.
#include <fmt/format.h>

#include <set>

#include "common/base64.h"
#include "common/strings.h"
#include "workflows/json_path.h"
#include "workflows/live_execution.h"
#include "workflows/service_common.h"

namespace loam::workflows {

using jobs::JobRecord;
using nlohmann::json;

namespace {

// The HistoryEvent member an event's details go in ("stateEnteredEventDetails", ...), or ""
// for the events that have none (ParallelStateStarted, MapStateSucceeded, ...).
std::string DetailsMember(const std::string& type) {
  if (EndsWith(type, "StateEntered")) return "stateEnteredEventDetails";
  if (EndsWith(type, "StateExited")) return "stateExitedEventDetails";
  static const std::set<std::string, std::less<>> kWithDetails = {
      "ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut",
      "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskFailed", "TaskTimedOut",
      "MapStateStarted", "MapIterationStarted", "MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted",
      "EvaluationFailed"};
  if (!kWithDetails.count(type)) return "";
  std::string member = type + "EventDetails";
  member[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(member[0])));
  return member;
}

json EventJson(const HistoryEvent& e, bool include_data) {
  json out = {{"timestamp", EpochSeconds(e.timestamp_ms)}, {"type", e.type}, {"id", e.id}, {"previousEventId", e.previous_event_id}};
  const std::string member = DetailsMember(e.type);
  if (member.empty()) return out;
  json details = e.details;
  if (!include_data) {
    for (const char* data : {"input", "output", "parameters"}) details.erase(data);
  }
  if (details.contains("input")) details["inputDetails"] = {{"truncated", false}};
  if (details.contains("output")) details["outputDetails"] = {{"truncated", false}};
  out[member] = std::move(details);
  return out;
}

// A start request's execution name (a UUID when absent) and input (JSON, at most 256 KiB).
struct StartRequest {
  std::string name, input_text;
  json input;
};

StatusOr<StartRequest> ParseStart(const json& request) {
  StartRequest start;
  start.name = request.contains("name") ? request["name"].get<std::string>() : NewUuid();
  RETURN_IF_ERROR(CheckName(start.name));
  start.input_text = request.value("input", "{}");
  if (start.input_text.size() > kMaxPayloadBytes) {
    return TypedError(StatusCode::kInvalidArgument, kInvalidExecutionInput, "Invalid execution input: larger than 262144 bytes");
  }
  if (!JsonNestingWithin(start.input_text, kMaxJsonDepth)) {
    return TypedError(StatusCode::kInvalidArgument, kInvalidExecutionInput,
                      fmt::format("Invalid execution input: nested more than {} levels deep", kMaxJsonDepth));
  }
  start.input = json::parse(start.input_text, nullptr, /*allow_exceptions=*/false);
  if (start.input.is_discarded()) {
    return TypedError(StatusCode::kInvalidArgument, kInvalidExecutionInput, "Invalid execution input: the input is not valid JSON");
  }
  return start;
}

}  // namespace

StatusOr<JobRecord> WorkflowService::ExecutionByArn(const std::string& arn) {
  ASSIGN_OR_RETURN(ArnParts parts, ParseArn(arn, "execution", options_));
  auto record = store_->GetJob(kExecutionKind, parts.names[0] + ":" + parts.names[1]);
  if (record.status().code() == StatusCode::kNotFound) {
    return TypedError(StatusCode::kNotFound, kExecutionDoesNotExist, fmt::format("Execution Does Not Exist: '{}'", arn));
  }
  return record;
}

StatusOr<json> WorkflowService::StartExecution(const json& request) {
  ASSIGN_OR_RETURN(JobRecord sm, StateMachineByArn(request["stateMachineArn"].get<std::string>()));
  ASSIGN_OR_RETURN(StartRequest start, ParseStart(request));
  const std::string& name = start.name;
  const std::string& input_text = start.input_text;
  const int64_t now = options_.clock();
  JobRecord e;
  e.kind = kExecutionKind;
  e.name = sm.name + ":" + name;
  e.arn = fmt::format("arn:aws:states:{}:{}:execution:{}:{}", options_.region, options_.account, sm.name, name);
  e.status = kRunning;
  e.creation_time_ms = e.last_modified_time_ms = now;
  e.parent = sm.arn;
  e.doc = {{"name", name},
           {"stateMachineArn", sm.arn},
           {"stateMachineName", sm.name},
           {"definition", sm.doc["definition"]},
           {"roleArn", sm.doc["roleArn"]},
           {"type", sm.doc["type"]},
           {"revisionId", sm.doc["revisionId"]},
           {"input", input_text},
           {"tokenSeed", NewUuidHex()}};
  Status created = store_->CreateJob(e);
  if (created.code() == StatusCode::kAlreadyExists) {
    // Starting the same execution again while it runs is idempotent.
    ASSIGN_OR_RETURN(JobRecord existing, store_->GetJob(kExecutionKind, e.name));
    if (existing.status != kRunning || existing.doc["input"] != e.doc["input"]) {
      return TypedError(StatusCode::kAlreadyExists, kExecutionAlreadyExists, fmt::format("Execution Already Exists: '{}'", e.arn));
    }
    return json{{"executionArn", existing.arn}, {"startDate", EpochSeconds(existing.creation_time_ms)}};
  }
  RETURN_IF_ERROR(created);
  Launch(e, {});
  return json{{"executionArn", e.arn}, {"startDate", EpochSeconds(now)}};
}

// Express workflows' synchronous start: the execution runs on a thread of its own (the caller's
// request is answered when it ends), and only its result is kept (Step Functions keeps no history
// for them either).
void WorkflowService::StartSyncExecution(const json& request, SyncDone done) {
  auto prepared = [&]() -> StatusOr<std::pair<JobRecord, json>> {
    ASSIGN_OR_RETURN(JobRecord sm, StateMachineByArn(request["stateMachineArn"].get<std::string>()));
    if (sm.doc["type"] != "EXPRESS") {
      return TypedError(StatusCode::kInvalidArgument, kStateMachineTypeNotSupported,
                        "This operation is not supported by this type of state machine");
    }
    ASSIGN_OR_RETURN(StartRequest start, ParseStart(request));
    ASSIGN_OR_RETURN(json definition, ParseDefinition(sm.doc["definition"].get<std::string>(), "EXPRESS"));
    JobRecord e;
    e.name = sm.name + ":" + start.name;
    e.arn = fmt::format("arn:aws:states:{}:{}:express:{}:{}:{}", options_.region, options_.account, sm.name, start.name,
                        NewUuidHex());
    e.creation_time_ms = options_.clock();
    e.doc = {{"name", start.name}, {"stateMachineArn", sm.arn}, {"stateMachineName", sm.name},
             {"roleArn", sm.doc["roleArn"]}, {"input", start.input_text}, {"tokenSeed", NewUuidHex()}};
    return std::pair{std::move(e), std::move(definition)};
  }();
  if (!prepared.ok()) {
    done(prepared.status());
    return;
  }
  JoinFinished();
  auto live = std::make_shared<Live>();
  live->arn = prepared->first.arn;
  std::lock_guard lock(mu_);
  if (shutting_down_) {
    done(Unavailable("The server is shutting down"));
    return;
  }
  live_[live->arn] = live;
  live->thread = std::thread([this, live, e = std::move(prepared->first), definition = std::move(prepared->second),
                              done = std::move(done)]() mutable {
    ExecutionEnvironment env = Environment(e, live.get());
    env.record = nullptr;  // no history for Express executions
    ExecutionResult r;
    try {
      r = Execute(definition, env.context["Execution"]["Input"], env);
    } catch (const std::exception& ex) {  // a defect must not take the server down with it
      r.status = ExecutionResult::Status::kFailed;
      r.error = "States.Runtime";
      r.cause = std::string("Loam failed running the execution: ") + ex.what();
    }
    const int64_t stop = options_.clock();
    if (r.status == ExecutionResult::Status::kInterrupted) {
      done(Unavailable("The server shut down before the execution ended"));
    } else {
      json out = {{"executionArn", e.arn}, {"stateMachineArn", e.doc["stateMachineArn"]}, {"name", e.doc["name"]},
                  {"startDate", EpochSeconds(e.creation_time_ms)}, {"stopDate", EpochSeconds(stop)},
                  {"status", ExecutionStatusName(r.status)}, {"input", e.doc["input"]}, {"inputDetails", {{"included", true}}},
                  {"billingDetails", {{"billedMemoryUsedInMB", 64},
                                      {"billedDurationInMilliseconds", std::max<int64_t>(100, stop - e.creation_time_ms)}}}};
      if (r.status == ExecutionResult::Status::kSucceeded) {
        out["output"] = r.output.dump(-1, ' ', false, kReplaceInvalid);
        out["outputDetails"] = {{"included", true}};
      } else {
        out["error"] = r.error;
        out["cause"] = r.cause;
      }
      done(std::move(out));
    }
    Retire(live);
  });
}

StatusOr<json> WorkflowService::DescribeExecution(const json& request) {
  ASSIGN_OR_RETURN(JobRecord e, ExecutionByArn(request["executionArn"].get<std::string>()));
  json out = {{"executionArn", e.arn}, {"stateMachineArn", e.doc["stateMachineArn"]}, {"name", e.doc["name"]},
              {"status", e.status}, {"startDate", EpochSeconds(e.creation_time_ms)}, {"input", e.doc["input"]},
              {"inputDetails", {{"included", true}}}, {"redriveCount", 0}, {"redriveStatus", "NOT_REDRIVABLE"}};
  if (e.doc.contains("stopDate")) out["stopDate"] = EpochSeconds(e.doc["stopDate"].get<int64_t>());
  if (e.doc.contains("output")) {
    out["output"] = e.doc["output"];
    out["outputDetails"] = {{"included", true}};
  }
  for (const char* f : {"error", "cause"}) {
    if (e.doc.contains(f)) out[f] = e.doc[f];
  }
  return out;
}

void WorkflowService::StopExecution(const json& request, Done done) {
  auto stopped = StopNow(request);
  if (!stopped.ok() || stopped->is_object()) {
    done(std::move(stopped));
    return;
  }
  // A running execution: answered once it has recorded its end (see StopNow).
  const std::string arn = stopped->get<std::string>();
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mu_);
    if (auto it = live_.find(arn); it != live_.end()) live = it->second;
  }
  auto answer = [this, arn, done] {
    auto e = ExecutionByArn(arn);
    if (!e.ok()) {
      done(e.status());
      return;
    }
    done(json{{"stopDate", EpochSeconds(e->doc.value("stopDate", options_.clock()))}});
  };
  if (live) {
    std::unique_lock lock(live->mu);
    if (!live->ended) {
      live->on_end.push_back(std::move(answer));
      return;
    }
  }
  answer();
}

// StopExecution's work: the answer for an execution that is not running here (ended, or not resumed
// yet), or the ARN (a string) of a running one that has been told to abort.
StatusOr<json> WorkflowService::StopNow(const json& request) {
  ASSIGN_OR_RETURN(JobRecord e, ExecutionByArn(request["executionArn"].get<std::string>()));
  if (e.status != kRunning) return json{{"stopDate", EpochSeconds(e.doc.value("stopDate", e.last_modified_time_ms))}};
  std::shared_ptr<Live> live;
  std::unique_lock lock(mu_);
  if (auto it = live_.find(e.arn); it != live_.end()) live = it->second;
  const std::string error = request.value("error", ""), cause = request.value("cause", "");
  if (!live) {
    // Read again under mu_: an execution that just ended recorded its end before leaving live_.
    ASSIGN_OR_RETURN(e, ExecutionByArn(e.arn));
    if (e.status != kRunning) return json{{"stopDate", EpochSeconds(e.doc.value("stopDate", e.last_modified_time_ms))}};
    // Not running in this process (a resume that has not started): end it here, its history too.
    ASSIGN_OR_RETURN(auto last, history_->Read(e.arn, 0, 1, /*reverse=*/true));
    HistoryEvent event;
    event.id = last.empty() ? 1 : last.front().id + 1;
    event.previous_event_id = event.id - 1;
    event.timestamp_ms = options_.clock();
    event.type = "ExecutionAborted";
    event.details = json::object();
    if (!error.empty()) event.details["error"] = error;
    if (!cause.empty()) event.details["cause"] = cause;
    RETURN_IF_ERROR(history_->Append(e.arn, {event}));
    ExecutionResult aborted;
    aborted.status = ExecutionResult::Status::kAborted;
    aborted.error = error;
    aborted.cause = cause;
    aborted.last_event_ms = event.timestamp_ms;
    RETURN_IF_ERROR(Finish(e, aborted));
    lock.unlock();
  } else {
    lock.unlock();
    {
      std::lock_guard live_lock(live->mu);
      live->abort = true;
      live->abort_error = error;
      live->abort_cause = cause;
    }
    live->cv.notify_all();
    // The execution records its end (and stops its running job) promptly; the request is
    // answered once it has, so a DescribeExecution that follows sees ABORTED.
    return json(e.arn);
  }
  ASSIGN_OR_RETURN(e, ExecutionByArn(e.arn));
  return json{{"stopDate", EpochSeconds(e.doc.value("stopDate", options_.clock()))}};
}

StatusOr<json> WorkflowService::ListExecutions(const json& request) {
  if (!request.contains("stateMachineArn")) {
    return TypedError(StatusCode::kInvalidArgument, kInvalidArn, "Invalid Arn: 'stateMachineArn is required'");
  }
  ASSIGN_OR_RETURN(JobRecord sm, StateMachineByArn(request["stateMachineArn"].get<std::string>()));
  if (sm.doc["type"] == "EXPRESS") {
    return TypedError(StatusCode::kInvalidArgument, kStateMachineTypeNotSupported,
                      "This operation is not supported by this type of state machine");
  }
  jobs::JobListQuery q;
  q.kind = kExecutionKind;
  q.parent = sm.arn;
  if (request.contains("statusFilter")) q.status_equals = request["statusFilter"].get<std::string>();
  ASSIGN_OR_RETURN(std::tie(q.offset, q.limit), PageOf(request));
  ASSIGN_OR_RETURN(auto page, store_->ListJobs(q));
  json executions = json::array();
  for (const JobRecord& e : page.first) {
    json item = {{"executionArn", e.arn}, {"stateMachineArn", sm.arn}, {"name", e.doc["name"]}, {"status", e.status},
                 {"startDate", EpochSeconds(e.creation_time_ms)}};
    if (e.doc.contains("stopDate")) item["stopDate"] = EpochSeconds(e.doc["stopDate"].get<int64_t>());
    executions.push_back(std::move(item));
  }
  json out = {{"executions", std::move(executions)}};
  if (page.second) out["nextToken"] = EncodeOffsetToken(q.offset + q.limit);
  return out;
}

StatusOr<json> WorkflowService::GetExecutionHistory(const json& request) {
  ASSIGN_OR_RETURN(JobRecord e, ExecutionByArn(request["executionArn"].get<std::string>()));
  ASSIGN_OR_RETURN(auto page, PageOf(request));
  const bool reverse = request.value("reverseOrder", false);
  // The token is the id the next page continues from.
  const int64_t from = request.contains("nextToken") ? static_cast<int64_t>(page.first) : 0;
  ASSIGN_OR_RETURN(auto events, history_->Read(e.arn, from, page.second + 1, reverse));
  const bool more = events.size() > page.second;
  if (more) events.resize(page.second);
  const bool include_data = request.value("includeExecutionData", true);
  json out_events = json::array();
  for (const auto& ev : events) out_events.push_back(EventJson(ev, include_data));
  json out = {{"events", std::move(out_events)}};
  if (more) out["nextToken"] = EncodeOffsetToken(static_cast<uint64_t>(events.back().id));
  return out;
}

StatusOr<json> WorkflowService::DescribeStateMachineForExecution(const json& request) {
  ASSIGN_OR_RETURN(JobRecord e, ExecutionByArn(request["executionArn"].get<std::string>()));
  json references = VariableReferences(json::parse(e.doc["definition"].get<std::string>(), nullptr, false));
  json out = {{"stateMachineArn", e.doc["stateMachineArn"]}, {"name", e.doc["stateMachineName"]},
              {"definition", e.doc["definition"]}, {"roleArn", e.doc["roleArn"]},
              {"updateDate", EpochSeconds(e.creation_time_ms)}, {"revisionId", e.doc.value("revisionId", "")},
              {"loggingConfiguration", {{"level", "OFF"}, {"includeExecutionData", false}}},
              {"tracingConfiguration", {{"enabled", false}}}};
  if (!references.empty()) out["variableReferences"] = std::move(references);
  return out;
}

}  // namespace loam::workflows
