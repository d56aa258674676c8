#include "executors/local_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "executors/supervisor.h"

extern char** environ;

namespace loam::executors {

namespace fs = std::filesystem;

std::string ExitStatus::Describe() const {
  if (supervisor_failed) {
    return signal != 0 ? fmt::format("the job supervisor was killed by signal {}", signal)
                       : fmt::format("the job supervisor failed with exit code {} before recording the job's status "
                                     "(127: it could not be started)", exit_code);
  }
  if (signal != 0) return fmt::format("killed by signal {} ({})", signal, strsignal(signal));
  return fmt::format("exit code {}", exit_code);
}

namespace {

// Field 22 of /proc/<pid>/stat: the process's start time in clock ticks since boot.
std::optional<uint64_t> StartTicks(int pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command name may contain spaces and parentheses
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 22) return std::stoull(field);
  }
  return std::nullopt;
}

// A zombie has ended: it only waits for us to reap it.
bool IsZombie(int pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

int PidFd(int pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

std::vector<std::string> LocalExecutor::SandboxedArgv(const ProcessSpec& spec) const {
  const Sandbox& box = spec.sandbox;
  std::vector<std::string> a = {options_.bwrap.string(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                "--tmpfs", "/tmp", "--die-with-parent"};
  // --dev gives a minimal /dev; GPU jobs need the NVIDIA device nodes too.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/dev", ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("nvidia", 0) == 0) {
      a.insert(a.end(), {"--dev-bind", entry.path().string(), entry.path().string()});
    }
  }
  if (fs::is_directory("/dev/dri", ec)) a.insert(a.end(), {"--dev-bind", "/dev/dri", "/dev/dri"});
  for (const auto& h : box.hidden) a.insert(a.end(), {"--tmpfs", h.string()});
  for (const auto& r : box.readable) a.insert(a.end(), {"--ro-bind", r.string(), r.string()});
  // The job gets a /tmp of its own; an interpreter installed under the host's /tmp (a
  // virtualenv in a checkout there) stays visible, read-only: the directory above its bin/.
  for (const fs::path& program : {fs::path(spec.argv[0]), fs::weakly_canonical(spec.argv[0], ec)}) {
    if (program.is_absolute() && program.string().rfind("/tmp/", 0) == 0 && program.parent_path().filename() == "bin") {
      std::string prefix = program.parent_path().parent_path().string();
      a.insert(a.end(), {"--ro-bind", prefix, prefix});
    }
  }
  // /opt/ml needs a writable /opt; what the machine keeps in /opt (virtualenvs, CUDA,
  // conda) is bound back into it read-only.
  a.insert(a.end(), {"--tmpfs", "/opt"});
  for (const auto& entry : fs::directory_iterator("/opt", ec)) {
    if (entry.path().filename() == "ml") continue;
    a.insert(a.end(), {"--ro-bind", entry.path().string(), entry.path().string()});
  }
  a.insert(a.end(), {"--bind", box.ml_root.string(), "/opt/ml"});
  if (box.isolate_network) a.push_back("--unshare-net");
  a.insert(a.end(), {"--chdir", spec.cwd.string(), "--"});
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

StatusOr<ProcessHandle> LocalExecutor::Start(const ProcessSpec& spec) {
  if (spec.argv.empty()) return InvalidArgument("no program to run");
  std::vector<std::string> program = spec.sandbox.enabled ? SandboxedArgv(spec) : spec.argv;
  // Outside a sandbox the supervisor enters cwd; inside, bwrap's --chdir does (the path
  // may only exist there, e.g. /opt/ml/code).
  std::string cwd = spec.sandbox.enabled ? "/" : spec.cwd.string();
  std::vector<std::string> args = {options_.loam_binary.string(), kSuperviseCommand, spec.log_file.string(),
                                   spec.exit_file.string(), cwd, "--"};
  args.insert(args.end(), program.begin(), program.end());

  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::error_code ec;
  fs::remove(spec.exit_file, ec);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The supervisor starts with its stop signals blocked, so a stop sent before it is ready
  // waits for it instead of killing it; it unblocks them for the job's process.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD}) sigaddset(&stop_signals, s);
  posix_spawnattr_setsigmask(&attr, &stop_signals);
  sigset_t all_default;
  sigemptyset(&all_default);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGUSR1, SIGCHLD}) sigaddset(&all_default, s);
  posix_spawnattr_setsigdefault(&attr, &all_default);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], nullptr, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Internal(fmt::format("cannot start the job supervisor: {}", std::strerror(rc)));
  auto ticks = StartTicks(pid);
  return ProcessHandle{pid, ticks.value_or(0)};
}

bool LocalExecutor::Alive(const ProcessHandle& h) {
  if (h.pid <= 0) return false;
  auto ticks = StartTicks(h.pid);
  if (!ticks || *ticks != h.start_ticks) return false;
  if (IsZombie(h.pid)) {
    Reap(h.pid);
    return false;
  }
  return true;
}

void LocalExecutor::Reap(int pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) {
    std::lock_guard lock(mu_);
    reaped_[pid] = status;
  }
}

void LocalExecutor::Stop(const ProcessHandle& h, bool force) {
  if (!Alive(h)) return;
  ::kill(h.pid, force ? SIGUSR1 : SIGTERM);
}

void LocalExecutor::WaitAny(const std::vector<ProcessHandle>& handles, std::chrono::milliseconds timeout) {
  std::vector<pollfd> fds;
  for (const auto& h : handles) {
    if (!Alive(h)) {
      for (auto& p : fds) ::close(p.fd);
      return;
    }
    int fd = PidFd(h.pid);
    if (fd >= 0) fds.push_back({fd, POLLIN, 0});
  }
  if (!fds.empty()) {
    ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
  } else {
    ::usleep(static_cast<useconds_t>(timeout.count() * 1000));
  }
  for (auto& p : fds) ::close(p.fd);
}

std::optional<ExitStatus> LocalExecutor::Result(const ProcessHandle& h, const fs::path& exit_file) {
  if (h.pid > 0) Reap(h.pid);  // our own child, if it is one
  std::ifstream in(exit_file);
  auto j = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
  if (j.is_discarded() || !j.is_object()) {
    std::lock_guard lock(mu_);
    auto it = reaped_.find(h.pid);
    if (it == reaped_.end()) return std::nullopt;
    ExitStatus s;
    s.supervisor_failed = true;
    if (WIFSIGNALED(it->second)) s.signal = WTERMSIG(it->second);
    else s.exit_code = WEXITSTATUS(it->second);
    reaped_.erase(it);
    return s;
  }
  ExitStatus s;
  s.exit_code = j.value("exit_code", 0);
  s.signal = j.value("signal", 0);
  return s;
}

fs::path FindUsableBubblewrap() {
  std::vector<fs::path> candidates;
  if (const char* path = std::getenv("PATH")) {
    std::string dirs = path;
    for (size_t start = 0, end; start <= dirs.size(); start = end + 1) {
      end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      if (end > start) candidates.push_back(fs::path(dirs.substr(start, end - start)) / "bwrap");
    }
  }
  candidates.push_back("/usr/bin/bwrap");
  for (const auto& candidate : candidates) {
    if (::access(candidate.c_str(), X_OK) != 0) continue;
    // Probe: some environments (unprivileged containers) forbid the namespaces bwrap needs.
    std::string probe = fmt::format(
        "'{}' --ro-bind / / --dev /dev --proc /proc --tmpfs /opt /bin/true >/dev/null 2>&1", candidate.string());
    if (std::system(probe.c_str()) == 0) return candidate;
  }
  return {};
}

}  // namespace loam::executors
