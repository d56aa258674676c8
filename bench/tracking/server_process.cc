#include "server_process.h"

#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "bench.h"
#include "http_client.h"

extern char** environ;

namespace loam::bench {

namespace {

// A port the kernel just handed out; the server binds it right after (a small race, retried).
uint16_t FreePort() {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::acceptor acc(ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acc.local_endpoint().port();
}

bool Healthy(uint16_t port) {
  try {
    HttpClient c("127.0.0.1", port);
    return c.Get("/health").status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

ServerProcess::ServerProcess(const std::string& binary, const std::filesystem::path& data_dir, int threads) {
  std::filesystem::create_directories(data_dir);
  log_ = data_dir / "server.log";
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (TryStart(binary, data_dir, threads)) return;
  }
  throw BenchError("loam server did not start; log " + log_.string() + ":\n" + LogTail());
}

bool ServerProcess::TryStart(const std::string& binary, const std::filesystem::path& data_dir, int threads) {
  port_ = FreePort();
  std::vector<std::string> args = {binary,   "server", "--data-dir", data_dir.string(), "--host", "127.0.0.1",
                                   "--port", std::to_string(port_), "--log-level", "warn"};
  if (threads > 0) {
    args.push_back("--threads");
    args.push_back(std::to_string(threads));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw BenchError("cannot start " + binary + ": " + std::strerror(rc));

  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken, or a real failure
      pid_ = -1;
      return false;
    }
    if (Healthy(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Stop();
  throw BenchError("loam server did not answer /health within 30 s; log:\n" + LogTail());
}

ServerProcess::~ServerProcess() { Stop(); }

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  auto deadline = Clock::now() + std::chrono::seconds(15);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

std::string ServerProcess::LogTail() const {
  std::ifstream in(log_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
}

}  // namespace loam::bench
