// Early stopping for tuning jobs (TrainingJobEarlyStoppingType=Auto): SageMaker's median rule.
//
// A training job reports its objective metric after each step (epoch) 0, 1, ..., s. At step s
// the job is stopped when
//     best_so_far(current, s)  is worse than  median{ mean(other[0..s]) : other reached step s }
// where best_so_far is the minimum (Minimize) or maximum (Maximize) of current[0..s], mean is the
// running average of a completed job's first s + 1 values, and "worse" is strict. The rule only
// fires once at least min_completed other jobs have curves reaching step s and the current job
// has completed at least min_steps steps, so early jobs are never judged against too little data.
// Non-finite values are ignored when computing best-so-far and running averages.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "tuning/strategy.h"

namespace loam::tuning {

struct MedianStoppingOptions {
  int min_completed = 3;  // other jobs that must have reached the same step
  int min_steps = 1;      // steps the current job must have reported (s + 1 >= min_steps)
};

struct StoppingDecision {
  bool stop = false;
  double best_so_far = 0;  // of the current job
  double median = 0;       // of the others' running averages; 0 when not enough data
  int compared = 0;        // other jobs that took part
  std::string reason;
};

// current: the job's values at steps 0..s (s = size - 1). others: curves of completed jobs.
// InvalidArgument when current is empty or has no finite value.
StatusOr<StoppingDecision> MedianStoppingRule(const std::vector<double>& current,
                                              const std::vector<std::vector<double>>& others,
                                              ObjectiveType objective,
                                              const MedianStoppingOptions& options = {});

}  // namespace loam::tuning
