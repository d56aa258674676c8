// The real `loam server` as a child process on a free local port: started, waited for
// (GET /health), measured (/proc) and stopped with SIGTERM.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace loam::bench {

class ServerProcess {
 public:
  // Starts `binary server --data-dir data_dir` and returns once /health answers 200.
  ServerProcess(const std::string& binary, const std::filesystem::path& data_dir, int threads);
  ~ServerProcess();  // Stop()
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // SIGTERM, then SIGKILL if it has not exited after 15 s. Idempotent.
  void Stop();

 private:
  bool TryStart(const std::string& binary, const std::filesystem::path& data_dir, int threads);
  std::string LogTail() const;

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::filesystem::path log_;
};

}  // namespace loam::bench
