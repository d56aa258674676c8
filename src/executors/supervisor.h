// `loam _supervise`: the parent of every job process. It starts in a session of its own, so a
// crash or restart of the server leaves the job running; it forwards stop requests to the
// job's process group (SIGTERM -> SIGTERM, SIGUSR1 -> SIGKILL) and records the exit status
// in a file the server reads, whether or not the server was there to see the end.
#pragma once

namespace loam::executors {

inline constexpr const char* kSuperviseCommand = "_supervise";

// argv: loam _supervise <log-file> <exit-file> <cwd> -- program args...
int SuperviseMain(int argc, char** argv);

}  // namespace loam::executors
