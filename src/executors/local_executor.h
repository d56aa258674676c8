// Runs job processes on this machine, each under `loam _supervise`, optionally inside a
// bubblewrap sandbox that shows the job its directory at /opt/ml.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "executors/executor.h"

namespace loam::executors {

struct LocalExecutorOptions {
  std::filesystem::path loam_binary;  // the supervisor is this binary's `_supervise` command
  std::filesystem::path bwrap;        // empty: no sandbox available
};

class LocalExecutor final : public Executor {
 public:
  explicit LocalExecutor(LocalExecutorOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "local"; }
  bool sandbox_available() const { return !options_.bwrap.empty(); }

  StatusOr<ProcessHandle> Start(const ProcessSpec& spec) override;
  bool Alive(const ProcessHandle& handle) override;
  void Stop(const ProcessHandle& handle, bool force) override;
  void WaitAny(const std::vector<ProcessHandle>& handles, std::chrono::milliseconds timeout) override;
  std::optional<ExitStatus> Result(const ProcessHandle& handle, const std::filesystem::path& exit_file) override;

  // The bubblewrap command line that runs `spec.argv` in its sandbox (exposed for tests).
  std::vector<std::string> SandboxedArgv(const ProcessSpec& spec) const;

 private:
  // Reaps our own child and remembers how it ended.
  void Reap(int pid);

  LocalExecutorOptions options_;
  std::mutex mu_;
  std::map<int, int> reaped_;  // supervisor pid -> wait status; guarded by mu_
};

// The first `bwrap` on PATH that can actually create a sandbox here, or empty.
std::filesystem::path FindUsableBubblewrap();

}  // namespace loam::executors
