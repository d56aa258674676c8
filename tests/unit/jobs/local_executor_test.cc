// The local executor with real processes under the real `loam _supervise`, and (where
// bubblewrap works here) its sandbox.
#include "executors/local_executor.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "common/ids.h"
#include "jobs_test_util.h"
#include "test_util.h"

namespace loam::executors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using loam::testing::ReadFile;
using loam::testing::WriteFile;

// Generous limits that only keep a broken test from hanging; nothing depends on their size.
constexpr auto kDeadline = 30s;

// The state letter of /proc/<pid>/stat, or 0 when there is no such process.
char ProcState(int pid) {
  std::string stat = ReadFile(fmt::format("/proc/{}/stat", pid));
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return 0;
  return stat[close + 2];
}

class LocalExecutorTest : public ::testing::Test {
 protected:
  LocalExecutorTest() : owned_(std::make_unique<LocalExecutor>(LocalExecutorOptions{.loam_binary = LOAM_BINARY_PATH})) {}

  void SetUp() override { ASSERT_TRUE(fs::exists(LOAM_BINARY_PATH)) << LOAM_BINARY_PATH; }

  ProcessSpec Spec(std::vector<std::string> argv, const std::string& name = "job") {
    ProcessSpec spec;
    spec.argv = std::move(argv);
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.cwd = dir_.path();
    spec.log_file = dir_.path() / "logs" / (name + ".log");
    spec.exit_file = dir_.path() / "logs" / (name + ".exit");
    fs::create_directories(dir_.path() / "logs");
    return spec;
  }

  ProcessHandle Start(const ProcessSpec& spec) {
    auto h = exec().Start(spec);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    if (!h.ok()) return {};
    EXPECT_GT(h->pid, 0);
    EXPECT_GT(h->start_ticks, 0u);
    started_.push_back(*h);
    return *h;
  }

  // Waits (through WaitAny) until the process has ended.
  bool WaitForEnd(const ProcessHandle& h) {
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (exec().Alive(h)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      exec().WaitAny({h}, 1000ms);
    }
    return true;
  }

  // Waits until the log holds `text` (the job reached that point).
  bool WaitForLog(const ProcessSpec& spec, const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (ReadFile(spec.log_file).find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  void TearDown() override {
    for (const auto& h : started_) {
      if (exec().Alive(h)) {
        exec().Stop(h, /*force=*/true);
        WaitForEnd(h);
      }
    }
  }

  LocalExecutor& exec() { return *owned_; }

  loam::testing::ScratchDir dir_;
  std::unique_ptr<LocalExecutor> owned_;  // replaced (sandbox tests) only before anything starts
  std::vector<ProcessHandle> started_;
};

TEST_F(LocalExecutorTest, RunsToTheEndAndRecordsTheExitCode) {
  ProcessSpec spec = Spec({"/bin/sh", "-c", "echo hello; echo oops >&2; exit 3"});
  ProcessHandle h = Start(spec);
  ASSERT_TRUE(WaitForEnd(h));
  EXPECT_FALSE(exec().Alive(h));
  auto result = exec().Result(h, spec.exit_file);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->signal, 0);
  EXPECT_FALSE(result->ok());
  EXPECT_EQ(result->Describe(), "exit code 3");
  std::string log = ReadFile(spec.log_file);
  EXPECT_NE(log.find("hello\n"), std::string::npos) << log;
  EXPECT_NE(log.find("oops\n"), std::string::npos) << log;
  EXPECT_EQ(exec().name(), "local");
  EXPECT_FALSE(exec().sandbox_available());
}

TEST_F(LocalExecutorTest, SuccessIsOkAndTheLogIsAppended) {
  ProcessSpec spec = Spec({"/bin/echo", "second"});
  WriteFile(spec.log_file, "first\n");
  ProcessHandle h = Start(spec);
  ASSERT_TRUE(WaitForEnd(h));
  auto result = exec().Result(h, spec.exit_file);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok());
  EXPECT_EQ(ReadFile(spec.log_file), "first\nsecond\n");
}

TEST_F(LocalExecutorTest, MissingProgramExits127AndEmptyArgvIsRefused) {
  ProcessSpec spec = Spec({"/nonexistent/program"});
  ProcessHandle h = Start(spec);
  ASSERT_TRUE(WaitForEnd(h));
  auto result = exec().Result(h, spec.exit_file);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, 127);
  EXPECT_EQ(exec().Start(Spec({})).status().code(), StatusCode::kInvalidArgument);
  // No exit file: no result.
  EXPECT_FALSE(exec().Result({}, dir_.path() / "no-such.exit").has_value());
}

TEST_F(LocalExecutorTest, EnvironmentIsExactlyTheSpecs) {
  ::setenv("LOAM_JOBS_TEST_LEAK", "from-the-server", 1);
  ProcessSpec spec = Spec({"/usr/bin/env"});
  spec.env = {{"PATH", "/usr/bin:/bin"}, {"LOAM_VISIBLE", "hello world"}, {"EMPTY", ""}};
  ProcessHandle h = Start(spec);
  ::unsetenv("LOAM_JOBS_TEST_LEAK");
  ASSERT_TRUE(WaitForEnd(h));
  ASSERT_TRUE(exec().Result(h, spec.exit_file)->ok());
  std::set<std::string> lines;
  std::istringstream in(ReadFile(spec.log_file));
  for (std::string line; std::getline(in, line);) lines.insert(line);
  EXPECT_EQ(lines, (std::set<std::string>{"PATH=/usr/bin:/bin", "LOAM_VISIBLE=hello world", "EMPTY="}));
}

TEST_F(LocalExecutorTest, WorkingDirectoryIsHonoured) {
  fs::create_directories(dir_.path() / "work dir/sub");
  ProcessSpec spec = Spec({"/bin/sh", "-c", "pwd -P; ls"});
  spec.cwd = dir_.path() / "work dir";
  ProcessHandle h = Start(spec);
  ASSERT_TRUE(WaitForEnd(h));
  ASSERT_TRUE(exec().Result(h, spec.exit_file)->ok());
  EXPECT_EQ(ReadFile(spec.log_file), fs::canonical(dir_.path() / "work dir").string() + "\nsub\n");
}

TEST_F(LocalExecutorTest, MissingWorkingDirectoryFailsTheJob) {
  ProcessSpec spec = Spec({"/bin/true"});
  spec.cwd = dir_.path() / "missing";
  ProcessHandle h = Start(spec);
  ASSERT_TRUE(WaitForEnd(h));
  auto result = exec().Result(h, spec.exit_file);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, 126);
  EXPECT_NE(ReadFile(spec.log_file).find("cannot enter"), std::string::npos);
}

TEST_F(LocalExecutorTest, StopSendsSigterm) {
  ProcessSpec spec = Spec({"/bin/sh", "-c", "echo ready; exec /bin/sleep 30"});
  ProcessHandle h = Start(spec);
  ASSERT_TRUE(WaitForLog(spec, "ready"));
  EXPECT_TRUE(exec().Alive(h));
  exec().Stop(h, /*force=*/false);
  ASSERT_TRUE(WaitForEnd(h));
  auto result = exec().Result(h, spec.exit_file);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->signal, SIGTERM);
  EXPECT_FALSE(result->ok());
  EXPECT_NE(result->Describe().find("signal 15"), std::string::npos) << result->Describe();
  exec().Stop(h, true);  // stopping an ended process is harmless
}

TEST_F(LocalExecutorTest, ForceKillsAProcessThatIgnoresSigterm) {
  ProcessSpec spec =
      Spec({"/bin/sh", "-c", "trap 'echo got-term' TERM; echo ready; while :; do /bin/sleep 0.05; done"});
  ProcessHandle h = Start(spec);
  ASSERT_TRUE(WaitForLog(spec, "ready"));
  exec().Stop(h, /*force=*/false);
  ASSERT_TRUE(WaitForLog(spec, "got-term"));  // it saw SIGTERM and went on
  EXPECT_TRUE(exec().Alive(h));
  exec().Stop(h, /*force=*/true);
  ASSERT_TRUE(WaitForEnd(h));
  auto result = exec().Result(h, spec.exit_file);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->signal, SIGKILL);
}

TEST_F(LocalExecutorTest, StopReachesTheWholeProcessGroup) {
  fs::path pid_file = dir_.path() / "grandchild.pid";
  ProcessSpec spec = Spec({"/bin/sh", "-c", "/bin/sleep 30 & echo $! > '" + pid_file.string() + "'; echo ready; wait"});
  ProcessHandle h = Start(spec);
  ASSERT_TRUE(WaitForLog(spec, "ready"));
  int grandchild = std::stoi(ReadFile(pid_file));
  ASSERT_GT(grandchild, 0);
  // The forked shell may not have exec'd sleep yet.
  auto exec_deadline = std::chrono::steady_clock::now() + kDeadline;
  while (ReadFile(fmt::format("/proc/{}/comm", grandchild)) != "sleep\n") {
    ASSERT_LT(std::chrono::steady_clock::now(), exec_deadline) << "grandchild never became sleep";
    std::this_thread::sleep_for(1ms);
  }
  char state = ProcState(grandchild);
  ASSERT_TRUE(state != 0 && state != 'Z');

  exec().Stop(h, /*force=*/false);
  ASSERT_TRUE(WaitForEnd(h));
  auto result = exec().Result(h, spec.exit_file);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->signal, SIGTERM);
  // The orphaned grandchild got the signal too: gone, or a zombie waiting for init.
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (true) {
    state = ProcState(grandchild);
    if (state == 0 || state == 'Z') break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "grandchild " << grandchild << " still runs";
    std::this_thread::sleep_for(5ms);
  }
}

TEST_F(LocalExecutorTest, WaitAnyReturnsWhenOneOfSeveralEnds) {
  ProcessSpec long_spec = Spec({"/bin/sh", "-c", "echo ready; exec /bin/sleep 30"}, "long");
  ProcessSpec short_spec = Spec({"/bin/true"}, "short");
  ProcessHandle long_h = Start(long_spec);
  ProcessHandle short_h = Start(short_spec);
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (exec().Alive(short_h)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    exec().WaitAny({long_h, short_h}, 1000ms);
  }
  EXPECT_TRUE(exec().Alive(long_h));
  EXPECT_TRUE(exec().Result(short_h, short_spec.exit_file)->ok());
  // Stop only once the supervisor runs the job: a signal that arrives before it has blocked
  // its signals kills the supervisor itself (see the report on Start()).
  ASSERT_TRUE(WaitForLog(long_spec, "ready"));
  exec().Stop(long_h, true);
  ASSERT_TRUE(WaitForEnd(long_h));
  EXPECT_EQ(exec().Result(long_h, long_spec.exit_file)->signal, SIGKILL);
}

TEST_F(LocalExecutorTest, RecycledPidIsNotAlive) {
  ProcessSpec spec = Spec({"/bin/sh", "-c", "echo ready; exec /bin/sleep 30"});
  ProcessHandle h = Start(spec);
  ASSERT_TRUE(WaitForLog(spec, "ready"));
  EXPECT_TRUE(exec().Alive(h));
  EXPECT_FALSE(exec().Alive({h.pid, h.start_ticks + 1}));
  EXPECT_FALSE(exec().Alive({h.pid, 0}));
  // Stop through a stale handle must not touch the process that now has the pid.
  exec().Stop({h.pid, h.start_ticks + 1}, /*force=*/true);
  EXPECT_TRUE(exec().Alive(h));
  EXPECT_FALSE(exec().Alive({0, 0}));
  EXPECT_FALSE(exec().Alive({-1, 0}));
}

TEST_F(LocalExecutorTest, SandboxedArgvBindsTheJobDirectory) {
  LocalExecutor sandboxed({.loam_binary = LOAM_BINARY_PATH, .bwrap = "/usr/bin/bwrap"});
  EXPECT_TRUE(sandboxed.sandbox_available());
  ProcessSpec spec = Spec({"python3", "train.py", "--epochs", "1"});
  spec.cwd = "/opt/ml/code";
  spec.sandbox = {.enabled = true, .ml_root = "/jobs/j/algo-1", .hidden = {"/data"},
                  .readable = {"/data/objects/b/f.csv"}, .isolate_network = true};
  std::vector<std::string> argv = sandboxed.SandboxedArgv(spec);
  std::string joined;
  for (const auto& a : argv) joined += a + " ";
  EXPECT_EQ(argv.front(), "/usr/bin/bwrap");
  EXPECT_NE(joined.find("--bind /jobs/j/algo-1 /opt/ml "), std::string::npos) << joined;
  EXPECT_NE(joined.find("--tmpfs /data --ro-bind /data/objects/b/f.csv /data/objects/b/f.csv "), std::string::npos)
      << joined;
  EXPECT_NE(joined.find("--unshare-net"), std::string::npos);
  EXPECT_NE(joined.find("--chdir /opt/ml/code -- python3 train.py --epochs 1 "), std::string::npos) << joined;
  spec.sandbox.isolate_network = false;
  joined.clear();
  for (const auto& a : sandboxed.SandboxedArgv(spec)) joined += a + " ";
  EXPECT_EQ(joined.find("--unshare-net"), std::string::npos);
}

TEST_F(LocalExecutorTest, SandboxKeepsAnInterpreterUnderTmpVisible) {
  LocalExecutor sandboxed({.loam_binary = LOAM_BINARY_PATH, .bwrap = "/usr/bin/bwrap"});
  ProcessSpec spec = Spec({"/tmp/checkout/.venv/bin/python", "train.py"});
  spec.cwd = "/opt/ml/code";
  spec.sandbox = {.enabled = true, .ml_root = "/jobs/j/algo-1"};
  std::string joined;
  for (const auto& a : sandboxed.SandboxedArgv(spec)) joined += a + " ";
  EXPECT_NE(joined.find("--ro-bind /tmp/checkout/.venv /tmp/checkout/.venv "), std::string::npos) << joined;
  EXPECT_LT(joined.find("--tmpfs /tmp "), joined.find("--ro-bind /tmp/checkout/.venv")) << joined;

  spec.argv[0] = "/usr/bin/python3";  // outside /tmp: nothing to add
  joined.clear();
  for (const auto& a : sandboxed.SandboxedArgv(spec)) joined += a + " ";
  EXPECT_EQ(joined.find("--ro-bind /usr "), std::string::npos) << joined;
}

// Sandboxed runs need a scratch directory outside /tmp: the sandbox has a /tmp of its own,
// so a hidden directory under /tmp would look empty whether or not it was hidden.
class SandboxTest : public LocalExecutorTest {
 protected:
  void SetUp() override {
    LocalExecutorTest::SetUp();
    bwrap_ = FindUsableBubblewrap();
    if (bwrap_.empty()) GTEST_SKIP() << "no usable bubblewrap here";
    root_ = fs::path(LOAM_JOBS_TEST_SCRATCH_ROOT) / ("sandbox-" + NewUuidHex());
    fs::create_directories(root_ / "ml");
    WriteFile(root_ / "data/secret.txt", "secret");
    WriteFile(root_ / "data/objects/bucket/train.csv", "1,2,3\n");
    owned_ = std::make_unique<LocalExecutor>(LocalExecutorOptions{.loam_binary = LOAM_BINARY_PATH, .bwrap = bwrap_});
  }
  void TearDown() override {
    LocalExecutorTest::TearDown();
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }

  // Runs a shell script in the sandbox to its end; its exit status.
  std::optional<ExitStatus> RunSandboxed(const std::string& script, bool hide, bool isolate_network,
                                         const std::string& name) {
    ProcessSpec spec = Spec({"/bin/sh", "-c", script}, name);
    spec.cwd = "/opt/ml";
    spec.sandbox.enabled = true;
    spec.sandbox.ml_root = root_ / "ml";
    if (hide) {
      spec.sandbox.hidden = {root_ / "data"};
      spec.sandbox.readable = {root_ / "data/objects/bucket/train.csv"};
    }
    spec.sandbox.isolate_network = isolate_network;
    ProcessHandle h = Start(spec);
    if (!WaitForEnd(h)) return std::nullopt;
    auto result = exec().Result(h, spec.exit_file);
    if (!result || !result->ok()) ADD_FAILURE() << "sandboxed run failed: " << ReadFile(spec.log_file);
    return result;
  }

  fs::path bwrap_, root_;
};

TEST_F(SandboxTest, JobSeesItsDirectoryAtOptMlAndNotLoamsData) {
  ASSERT_TRUE(exec().sandbox_available());
  std::string data = (root_ / "data").string();
  std::string script = "pwd > /opt/ml/pwd.txt; echo from-inside > /opt/ml/x; "
                       "ls -A '" + data + "' > /opt/ml/hidden.txt; "
                       "cat '" + data + "/objects/bucket/train.csv' > /opt/ml/readable.txt; "
                       "cat /proc/net/dev > /opt/ml/netdev.txt; "
                       "(echo more >> '" + data + "/objects/bucket/train.csv') 2> /dev/null && echo yes > /opt/ml/wrote.txt; true";
  auto result = RunSandboxed(script, /*hide=*/true, /*isolate_network=*/true, "boxed");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(ReadFile(root_ / "ml/x"), "from-inside\n");
  EXPECT_EQ(ReadFile(root_ / "ml/pwd.txt"), "/opt/ml\n");
  EXPECT_EQ(ReadFile(root_ / "ml/hidden.txt"), "objects\n");  // only the re-exposed path, no secret.txt
  EXPECT_EQ(ReadFile(root_ / "ml/readable.txt"), "1,2,3\n");
  EXPECT_FALSE(fs::exists(root_ / "ml/wrote.txt"));  // re-exposed read-only
  EXPECT_EQ(ReadFile(root_ / "data/objects/bucket/train.csv"), "1,2,3\n");

  // Only the loopback interface.
  std::vector<std::string> interfaces;
  std::istringstream in(ReadFile(root_ / "ml/netdev.txt"));
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    interfaces.push_back(name);
  }
  EXPECT_EQ(interfaces, (std::vector<std::string>{"lo"}));
}

TEST_F(SandboxTest, WithoutHidingTheDataIsVisible) {
  // The control for the test above: the same listing without `hidden` shows the secret.
  std::string script = "ls -A '" + (root_ / "data").string() + "' > /opt/ml/listing.txt";
  auto result = RunSandboxed(script, /*hide=*/false, /*isolate_network=*/false, "open");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(ReadFile(root_ / "ml/listing.txt"), "objects\nsecret.txt\n");
}

}  // namespace
}  // namespace loam::executors
