// The port that runs a job's processes. The local executor (default) starts each instance
// under a small supervisor process that outlives a restart of the server; a Slurm executor
// would implement the same calls with sbatch/scancel.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loam::executors {

struct Sandbox {
  bool enabled = false;                     // run under bubblewrap
  std::filesystem::path ml_root;            // bound read-write at /opt/ml
  std::vector<std::filesystem::path> hidden;    // covered by an empty tmpfs (Loam's data directory)
  std::vector<std::filesystem::path> readable;  // re-exposed read-only inside hidden ones
  bool isolate_network = false;
};

struct ProcessSpec {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // the complete environment
  std::filesystem::path cwd;
  std::filesystem::path log_file;   // stdout and stderr, appended
  std::filesystem::path exit_file;  // the supervisor writes the exit status here
  Sandbox sandbox;
};

// Identifies a started process across server restarts: the pid and its kernel start time,
// so a recycled pid is never mistaken for the job.
struct ProcessHandle {
  int pid = 0;
  uint64_t start_ticks = 0;
};

struct ExitStatus {
  int exit_code = 0;  // meaningful when signal == 0
  int signal = 0;     // the signal that ended the process, or 0
  bool supervisor_failed = false;  // the supervisor itself ended without recording the job's status
  bool ok() const { return signal == 0 && exit_code == 0 && !supervisor_failed; }
  std::string Describe() const;
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::string name() const = 0;
  virtual StatusOr<ProcessHandle> Start(const ProcessSpec& spec) = 0;
  // Whether the process behind the handle is still running (false for a recycled pid).
  virtual bool Alive(const ProcessHandle& handle) = 0;
  // Asks the process tree to stop (SIGTERM); with `force`, kills it (SIGKILL).
  virtual void Stop(const ProcessHandle& handle, bool force) = 0;
  // Blocks until one of the processes ends or `timeout` passes.
  virtual void WaitAny(const std::vector<ProcessHandle>& handles, std::chrono::milliseconds timeout) = 0;
  // The exit status of an ended process, from its exit file; when none was written, the
  // supervisor's own status if this executor saw it end, else nullopt (it ended unseen,
  // e.g. while the server was down).
  virtual std::optional<ExitStatus> Result(const ProcessHandle& handle, const std::filesystem::path& exit_file) = 0;
};

}  // namespace loam::executors
