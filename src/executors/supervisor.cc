#include "executors/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace loam::executors {

namespace {

void WriteExitFile(const std::string& path, int wait_status) {
  std::string body;
  if (WIFSIGNALED(wait_status)) {
    body = "{\"signal\": " + std::to_string(WTERMSIG(wait_status)) + "}\n";
  } else {
    body = "{\"exit_code\": " + std::to_string(WEXITSTATUS(wait_status)) + "}\n";
  }
  // Written then renamed, so the server never reads half a status.
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t ignored = ::write(fd, body.data(), body.size());
  (void)ignored;
  ::fsync(fd);
  ::close(fd);
  ::rename(tmp.c_str(), path.c_str());
}

}  // namespace

int SuperviseMain(int argc, char** argv) {
  if (argc < 7 || std::strcmp(argv[5], "--") != 0) {
    std::fprintf(stderr, "usage: loam _supervise LOG EXIT_FILE CWD -- PROGRAM ARGS...\n");
    return 2;
  }
  const std::string log_file = argv[2], exit_file = argv[3], cwd = argv[4];
  // The server's sockets and files are not the job's: without this a job would hold the
  // server's listening port open across a restart.
  ::close_range(3, ~0U, 0);
  ::setsid();

  int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return 3;
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  // Already blocked by the server's spawn (see LocalExecutor::Start); blocked again for
  // supervisors started some other way.
  sigset_t handled, none;
  sigemptyset(&handled);
  sigemptyset(&none);
  for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGCHLD, SIGHUP}) sigaddset(&handled, s);
  sigprocmask(SIG_BLOCK, &handled, nullptr);

  pid_t child = ::fork();
  if (child < 0) return 4;
  if (child == 0) {
    ::setpgid(0, 0);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null_fd >= 0 ? null_fd : 0, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (::chdir(cwd.c_str()) != 0) {
      std::fprintf(stderr, "loam: cannot enter %s: %s\n", cwd.c_str(), std::strerror(errno));
      _exit(126);
    }
    ::execvp(argv[6], argv + 6);
    std::fprintf(stderr, "loam: cannot start %s: %s\n", argv[6], std::strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  ::setpgid(child, child);  // also here, so a signal sent right away finds the group

  while (true) {
    siginfo_t info;
    int sig = sigwaitinfo(&handled, &info);
    if (sig < 0) continue;  // EINTR
    if (sig == SIGCHLD) {
      int status = 0;
      pid_t r = ::waitpid(child, &status, WNOHANG);
      if (r == child) {
        WriteExitFile(exit_file, status);
        return 0;
      }
    } else if (sig == SIGUSR1) {
      ::kill(-child, SIGKILL);
    } else if (sig != SIGHUP) {
      ::kill(-child, SIGTERM);
    }
  }
}

}  // namespace loam::executors
