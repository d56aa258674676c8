// The port through which the workflow service keeps executions' history events (state
// machines and executions themselves are JobStore records). Events are append-only; a resumed
// execution replays them.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "workflows/state_machine.h"

namespace loam::workflows {

class HistoryStore {
 public:
  virtual ~HistoryStore() = default;
  // Appends in one transaction; ids continue the execution's history.
  virtual Status Append(const std::string& execution_arn, const std::vector<HistoryEvent>& events) = 0;
  // Events with id > after_id, oldest first (newest first when reverse: ids < before_id there,
  // 0 meaning from the end), at most `limit`.
  virtual StatusOr<std::vector<HistoryEvent>> Read(const std::string& execution_arn, int64_t after_id, size_t limit,
                                                   bool reverse) = 0;
};

}  // namespace loam::workflows
