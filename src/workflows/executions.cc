// Executions: each running one has a thread that drives the interpreter, records its history
// as it goes, and waits (Wait states, retries, .sync polls, task tokens) interruptibly.
#include <fmt/format.h>

#include "workflows/json_path.h"

#include <limits>
#include <set>

#include "common/log.h"
#include "common/strings.h"
#include "workflows/service_common.h"
#include "workflows/workflow_service.h"

namespace loam::workflows {

using jobs::JobRecord;
using nlohmann::json;

namespace {

constexpr const char* kRunning = "RUNNING";
constexpr size_t kMaxPayloadBytes = 256 * 1024;  // Step Functions' input, output and task result limit

const char* StatusName(ExecutionResult::Status s) {
  switch (s) {
    case ExecutionResult::Status::kSucceeded: return "SUCCEEDED";
    case ExecutionResult::Status::kFailed: return "FAILED";
    case ExecutionResult::Status::kAborted: return "ABORTED";
    case ExecutionResult::Status::kTimedOut: return "TIMED_OUT";
    case ExecutionResult::Status::kInterrupted: break;
  }
  return kRunning;
}

// The HistoryEvent member an event's details go in ("stateEnteredEventDetails", ...), or ""
// for the events that have none (ParallelStateStarted, MapStateSucceeded, ...).
std::string DetailsMember(const std::string& type) {
  if (EndsWith(type, "StateEntered")) return "stateEnteredEventDetails";
  if (EndsWith(type, "StateExited")) return "stateExitedEventDetails";
  static const std::set<std::string, std::less<>> kWithDetails = {
      "ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut",
      "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskFailed", "TaskTimedOut",
      "MapStateStarted", "MapIterationStarted", "MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"};
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

struct WorkflowService::Live {
  std::string arn;
  std::thread thread;
  std::mutex mu;  // guards what follows
  std::condition_variable cv;
  bool abort = false;
  std::string abort_error, abort_cause;  // what StopExecution gave
  bool shutdown = false;
  int64_t flushes = 0;  // batches of history made durable
  bool ended = false;
  std::string seed;           // the execution's task token seed
  std::string awaited_token;  // the task token the execution waits on, "" when none
  std::optional<TokenAnswer> answer;
  // Answers to tokens of this execution that came before it began waiting on them (a fast
  // worker can answer while the task's TaskSubmitted is still being written).
  std::map<std::string, TokenAnswer> early;
  // Requests answered once the history holds more than `after` batches (a task's answer written),
  // or, with false, when the execution ends first.
  std::vector<std::pair<int64_t, std::function<void(bool)>>> after_flush;
  std::vector<std::function<void()>> on_end;  // requests answered once the execution has ended
  int64_t heartbeat_ms = 0;  // when the awaited task last reported (or started)
};

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
      r = Execute(definition, json::parse(e.doc["input"].get<std::string>()), env);
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
                  {"status", StatusName(r.status)}, {"input", e.doc["input"]}, {"inputDetails", {{"included", true}}},
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

ExecutionEnvironment WorkflowService::Environment(const JobRecord& execution, Live* live) {
  ExecutionEnvironment env;
  const std::string name = execution.doc["name"].get<std::string>();
  env.context = {{"Execution", {{"Id", execution.arn},
                                {"Input", json::parse(execution.doc["input"].get<std::string>())},
                                {"Name", name},
                                {"RoleArn", execution.doc["roleArn"]},
                                {"StartTime", IsoTime(execution.creation_time_ms)},
                                {"RedriveCount", 0}}},
                 {"StateMachine", {{"Id", execution.doc["stateMachineArn"]}, {"Name", execution.doc["stateMachineName"]}}}};
  env.now_ms = options_.clock;
  env.region = options_.region;
  env.tasks = tasks_.get();
  env.poll_interval = options_.poll_interval;
  env.task_token_seed = execution.doc["tokenSeed"].get<std::string>();
  env.keep_history = false;  // recorded in the history store as it goes
  if (!live) return env;  // an express execution on the caller's thread: nothing interrupts or waits on it
  const std::string arn = execution.arn;
  env.interruption = [live] {
    std::lock_guard lock(live->mu);
    return live->shutdown ? Interruption::kShutdown : live->abort ? Interruption::kAbort : Interruption::kNone;
  };
  env.abort_reason = [live] {
    std::lock_guard lock(live->mu);
    return std::pair{live->abort_error, live->abort_cause};
  };
  env.sleep = [live](std::chrono::milliseconds d) {
    std::unique_lock lock(live->mu);
    live->cv.wait_for(lock, d, [&] { return live->abort || live->shutdown; });
  };
  env.record = [this, arn, live](const std::vector<HistoryEvent>& events) {
    // A busy or briefly failing database gets three more tries before the execution stops.
    Status s = history_->Append(arn, events);
    for (int attempt = 1; !s.ok() && attempt <= 3; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << (2 * attempt)));
      s = history_->Append(arn, events);
    }
    if (!s.ok()) {
      log::Error("workflow.history_write_failed", {{"execution", arn}, {"error", s.ToString()}});
      return false;
    }
    std::vector<std::function<void(bool)>> answered;
    {
      std::lock_guard lock(live->mu);
      ++live->flushes;
      std::erase_if(live->after_flush, [&](auto& waiting) {
        if (waiting.first >= live->flushes) return false;
        answered.push_back(std::move(waiting.second));
        return true;
      });
    }
    live->cv.notify_all();
    for (auto& answer : answered) answer(true);
    return true;
  };
  env.await_token = [this, live](const std::string& token, int64_t deadline_ms, int64_t heartbeat_seconds) {
    {
      std::lock_guard lock(mu_);
      tokens_[token] = live->arn;
    }
    std::unique_lock lock(live->mu);
    live->awaited_token = token;
    live->answer.reset();
    if (auto early = live->early.find(token); early != live->early.end()) {
      live->answer = std::move(early->second);
      live->early.erase(early);
    }
    live->heartbeat_ms = options_.clock();
    TokenAnswer result{TokenAnswer::Kind::kInterrupted, nullptr, "", ""};
    while (true) {
      if (live->abort || live->shutdown) break;
      if (live->answer) {
        result = std::move(*live->answer);
        break;
      }
      const int64_t now = options_.clock();
      if (now >= deadline_ms) {
        result.kind = TokenAnswer::Kind::kTimedOut;
        break;
      }
      int64_t wake = deadline_ms;
      if (heartbeat_seconds > 0) {
        const int64_t beat_deadline = live->heartbeat_ms + heartbeat_seconds * 1000;
        if (now >= beat_deadline) {
          result.kind = TokenAnswer::Kind::kHeartbeatTimedOut;
          break;
        }
        wake = std::min(wake, beat_deadline);
      }
      live->cv.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(wake - now, 60'000)));
    }
    live->awaited_token.clear();
    live->answer.reset();
    lock.unlock();
    std::lock_guard guard(mu_);
    tokens_.erase(token);
    // A late answer to a closed task is TaskTimedOut, not TaskDoesNotExist (bounded memory).
    if (closed_tokens_.size() >= 10000) closed_tokens_.clear();
    closed_tokens_.insert(token);
    return result;
  };
  return env;
}

void WorkflowService::Launch(JobRecord execution, std::vector<HistoryEvent> recorded) {
  JoinFinished();
  auto live = std::make_shared<Live>();
  live->arn = execution.arn;
  live->seed = execution.doc.value("tokenSeed", "");
  std::lock_guard lock(mu_);
  if (shutting_down_) return;  // the next start resumes it
  live_[execution.arn] = live;
  live->thread = std::thread([this, live, e = std::move(execution), r = std::move(recorded)]() mutable {
    RunExecution(live, std::move(e), std::move(r));
  });
}

void WorkflowService::RunExecution(std::shared_ptr<Live> live, JobRecord execution, std::vector<HistoryEvent> recorded) {
  auto definition = json::parse(execution.doc["definition"].get<std::string>(), nullptr, /*allow_exceptions=*/false);
  ExecutionResult result;
  if (definition.is_discarded()) {
    result.status = ExecutionResult::Status::kFailed;
    result.error = "States.Runtime";
    result.cause = "The execution's definition is not valid JSON";
  } else {
    ExecutionEnvironment env = Environment(execution, live.get());
    env.recorded = std::move(recorded);
    try {
      result = Execute(definition, json::parse(execution.doc["input"].get<std::string>()), env);
    } catch (const std::exception& ex) {  // a defect must not take the server down with it
      log::Error("workflow.execution_crashed", {{"execution", execution.arn}, {"error", ex.what()}});
      result.status = ExecutionResult::Status::kFailed;
      result.error = "States.Runtime";
      result.cause = std::string("Loam failed running the execution: ") + ex.what();
    }
  }
  if (result.status != ExecutionResult::Status::kInterrupted) {
    if (Status s = Finish(execution, result); !s.ok()) {
      log::Error("workflow.finish_failed", {{"execution", execution.arn}, {"error", s.ToString()}});
    }
  }
  Retire(live);
}

// An execution's thread, as it ends: no longer live, its thread left for JoinFinished.
void WorkflowService::Retire(const std::shared_ptr<Live>& live) {
  std::vector<std::pair<int64_t, std::function<void(bool)>>> after_flush;
  std::vector<std::function<void()>> on_end;
  int64_t flushes = 0;
  {
    std::lock_guard lock(mu_);
    {
      std::lock_guard l(live->mu);
      live->ended = true;
      after_flush.swap(live->after_flush);
      on_end.swap(live->on_end);
      flushes = live->flushes;
    }
    live->cv.notify_all();
    auto it = live_.find(live->arn);
    if (it != live_.end() && it->second == live) {
      finished_.push_back(std::move(live->thread));
      live_.erase(it);
    }
  }
  // Outside the locks: the callbacks read the store and answer requests.
  for (auto& [after, answer] : after_flush) answer(flushes > after);
  for (auto& answer : on_end) answer();
}

Status WorkflowService::Finish(JobRecord& execution, const ExecutionResult& result) {
  execution.status = StatusName(result.status);
  execution.last_modified_time_ms = result.last_event_ms > 0 ? result.last_event_ms : options_.clock();
  execution.doc["stopDate"] = execution.last_modified_time_ms;
  if (result.status == ExecutionResult::Status::kSucceeded) {
    execution.doc["output"] = result.output.dump(-1, ' ', false, kReplaceInvalid);
  } else if (result.status != ExecutionResult::Status::kAborted || !result.error.empty() || !result.cause.empty()) {
    execution.doc["error"] = result.error;
    execution.doc["cause"] = result.cause;
  }
  return store_->UpdateJob(execution);
}

void WorkflowService::JoinFinished() {
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mu_);
    done.swap(finished_);
  }
  for (auto& t : done) {
    if (t.joinable()) t.join();
  }
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
  if (page.second) out["nextToken"] = std::to_string(q.offset + q.limit);
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
  if (more) out["nextToken"] = std::to_string(events.back().id);
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

StatusOr<std::shared_ptr<WorkflowService::Live>> WorkflowService::LiveByToken(const std::string& token) {
  // Tokens are a 32-hex-digit execution seed and an 8-hex-digit event number.
  if (token.size() != 40 || token.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return TypedError(StatusCode::kInvalidArgument, kInvalidToken, "Invalid Token: 'Invalid token'");
  }
  std::lock_guard lock(mu_);
  auto t = tokens_.find(token);
  if (t == tokens_.end() && closed_tokens_.count(token)) {
    return TypedError(StatusCode::kInvalidArgument, kTaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'");
  }
  if (t == tokens_.end()) {
    // Not awaited yet: it may belong to a running execution that is about to wait on it.
    for (const auto& [arn, live] : live_) {
      if (!live->seed.empty() && token.compare(0, live->seed.size(), live->seed) == 0) return live;
    }
    return TypedError(StatusCode::kNotFound, kTaskDoesNotExist, "Task Does Not Exist");
  }
  auto l = live_.find(t->second);
  if (l == live_.end()) return TypedError(StatusCode::kNotFound, kTaskDoesNotExist, "Task Does Not Exist");
  return l->second;
}

// Hands the answer to the waiting execution and replies once the task's end is in the history:
// an answer acknowledged is never lost to a crash. Nothing waits on the caller's thread.
void WorkflowService::Answer(const std::shared_ptr<Live>& live, const std::string& token, TokenAnswer answer, Done done) {
  std::unique_lock lock(live->mu);
  if (live->ended) {
    lock.unlock();
    done(TypedError(StatusCode::kInvalidArgument, kTaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'"));
    return;
  }
  const int64_t flushes = live->flushes;
  if (live->awaited_token == token && !live->answer) {
    live->answer = std::move(answer);
  } else if (live->awaited_token.empty() && !live->early.count(token) && live->early.size() < 64) {
    live->early[token] = std::move(answer);  // taken when the execution begins to wait on it
  } else {
    lock.unlock();
    done(TypedError(StatusCode::kInvalidArgument, kTaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'"));
    return;
  }
  live->after_flush.emplace_back(flushes, [done](bool recorded) {
    if (recorded) {
      done(json::object());
    } else {
      done(Unavailable("The task's answer was taken but could not be recorded; the execution resumes with it pending"));
    }
  });
  lock.unlock();
  live->cv.notify_all();
}

void WorkflowService::SendTaskSuccess(const json& request, Done done) {
  const std::string token = request["taskToken"].get<std::string>();
  const std::string& output_text = request["output"].get_ref<const std::string&>();
  if (!JsonNestingWithin(output_text, kMaxJsonDepth)) {
    done(TypedError(StatusCode::kInvalidArgument, kInvalidOutput,
                    fmt::format("Invalid Output: nested more than {} levels deep", kMaxJsonDepth)));
    return;
  }
  json output = json::parse(output_text, nullptr, /*allow_exceptions=*/false);
  if (output.is_discarded()) {
    done(TypedError(StatusCode::kInvalidArgument, kInvalidOutput, "Invalid Output: the output is not valid JSON"));
    return;
  }
  auto live = LiveByToken(token);
  if (!live.ok()) {
    done(live.status());
    return;
  }
  Answer(*live, token, TokenAnswer{TokenAnswer::Kind::kSucceeded, std::move(output), "", ""}, std::move(done));
}

void WorkflowService::SendTaskFailure(const json& request, Done done) {
  const std::string token = request["taskToken"].get<std::string>();
  auto live = LiveByToken(token);
  if (!live.ok()) {
    done(live.status());
    return;
  }
  Answer(*live, token, TokenAnswer{TokenAnswer::Kind::kFailed, nullptr, request.value("error", ""), request.value("cause", "")},
         std::move(done));
}

StatusOr<json> WorkflowService::SendTaskHeartbeat(const json& request) {
  const std::string token = request["taskToken"].get<std::string>();
  ASSIGN_OR_RETURN(auto live, LiveByToken(token));
  {
    std::lock_guard lock(live->mu);
    if (live->awaited_token != token) return TypedError(StatusCode::kNotFound, kTaskDoesNotExist, "Task Does Not Exist");
    live->heartbeat_ms = options_.clock();
  }
  live->cv.notify_all();
  return json::object();
}

Status WorkflowService::Recover() {
  ASSIGN_OR_RETURN(auto running, store_->JobsWithStatus(kExecutionKind, {kRunning}));
  for (JobRecord& e : running) {
    ASSIGN_OR_RETURN(auto events, history_->Read(e.arn, 0, std::numeric_limits<size_t>::max(), false));
    log::Info("workflow.resume", {{"execution", e.arn}, {"recorded_events", events.size()}});
    Launch(std::move(e), std::move(events));
  }
  return Status::Ok();
}

void WorkflowService::Shutdown() {
  std::vector<std::shared_ptr<Live>> running;
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    for (auto& [arn, live] : live_) running.push_back(live);
  }
  for (auto& live : running) {
    {
      std::lock_guard lock(live->mu);
      live->shutdown = true;
    }
    live->cv.notify_all();
  }
  for (auto& live : running) {
    // Each thread moves itself to finished_ as it ends; join what is still here too.
    std::thread t;
    {
      std::lock_guard lock(mu_);
      if (live->thread.joinable()) t = std::move(live->thread);
    }
    if (t.joinable()) t.join();
  }
  JoinFinished();
}

}  // namespace loam::workflows
