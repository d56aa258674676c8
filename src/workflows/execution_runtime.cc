// Running executions: each has a thread that drives the interpreter, records its history as it
// goes, and waits (Wait states, retries, .sync polls, task tokens) interruptibly; restarts resume
// them from their history. Task tokens are answered here too.
#include <fmt/format.h>

#include <limits>

#include "common/log.h"
#include "common/strings.h"
#include "workflows/json_path.h"
#include "workflows/live_execution.h"
#include "workflows/service_common.h"

namespace loam::workflows {

using jobs::JobRecord;
using nlohmann::json;

const char* ExecutionStatusName(ExecutionResult::Status s) {
  switch (s) {
    case ExecutionResult::Status::kSucceeded: return "SUCCEEDED";
    case ExecutionResult::Status::kFailed: return "FAILED";
    case ExecutionResult::Status::kAborted: return "ABORTED";
    case ExecutionResult::Status::kTimedOut: return "TIMED_OUT";
    case ExecutionResult::Status::kInterrupted: break;
  }
  return kRunning;
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
      result = Execute(definition, env.context["Execution"]["Input"], env);  // parsed once, for $$ too
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
  execution.status = ExecutionStatusName(result.status);
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
