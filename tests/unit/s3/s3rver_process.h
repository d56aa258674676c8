// A real s3rver (npm, the project's tests/node) on a free loopback port, for tests of the
// external-S3 bucket store: started once per test suite, stopped with it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace loam::testing {

class S3rverProcess {
 public:
  // Why s3rver cannot run here (no node, or the npm module not installed); "" when it can.
  static std::string Unavailable() {
    if (NodeBinary().empty()) return "node is not on PATH";
    if (!std::filesystem::exists(Script())) return "s3rver is not installed (" + Script().string() + ")";
    return "";
  }

  // Starts s3rver on `directory` and waits until it says which port it listens on.
  explicit S3rverProcess(const std::filesystem::path& directory) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::string node = NodeBinary(), script = Script().string(), dir = directory.string();
      ::execl(node.c_str(), node.c_str(), script.c_str(), "-d", dir.c_str(), "-p", "0", "--address", "127.0.0.1",
              "--silent", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    pid_ = pid;
    // "S3rver listening on 127.0.0.1:<port>"
    std::string said;
    char buffer[256];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
      ssize_t n = ::read(out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      said.append(buffer, static_cast<size_t>(n));
      auto at = said.find("127.0.0.1:");
      auto end = at == std::string::npos ? std::string::npos : said.find('\n', at);
      if (end != std::string::npos) port_ = std::atoi(said.c_str() + at + 10);
    }
    ::close(out[0]);
  }

  ~S3rverProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;

  int port() const { return port_; }  // 0 when it did not start
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  static std::filesystem::path Script() {
    return std::filesystem::path(LOAM_SOURCE_DIR) / "tests/node/node_modules/s3rver/bin/s3rver.js";
  }
  static std::string NodeBinary() {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
      size_t end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / "node";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
      start = end + 1;
    }
    return "";
  }

  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace loam::testing
