// A running execution as the workflow service keeps it: its thread, what it was asked to do
// (abort, shut down) and what it waits for (a task token), and the requests waiting on it.
// Private to the service's translation units (executions.cc, execution_runtime.cc).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "workflows/workflow_service.h"

namespace loam::workflows {

inline constexpr const char* kRunning = "RUNNING";

// DescribeExecution's status for how an execution ended (RUNNING while it has not).
const char* ExecutionStatusName(ExecutionResult::Status s);

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

}  // namespace loam::workflows
