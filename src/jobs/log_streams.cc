#include "jobs/log_streams.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

namespace loam::jobs {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint64_t kMaxEventBytes = 1024 * 1024;  // GetLogEvents answers at most 1 MB

struct Stream {
  std::string name;
  std::string job;
  std::string host;
  int64_t creation_ms = 0;
  int64_t last_event_ms = 0;
  uint64_t bytes = 0;
};

std::vector<Stream> StreamsOf(JobRunner& runner, const JobRecord& job) {
  std::vector<Stream> out;
  for (const auto& host : HostNames(runner.kind().instance_count(job.doc))) {
    Stream s{fmt::format("{}/{}-{}", job.name, host, job.creation_time_ms / 1000), job.name, host,
             job.creation_time_ms, job.creation_time_ms, 0};
    struct stat st;
    if (::stat(InstanceLog(runner.JobDir(job.name), host).c_str(), &st) == 0) {
      s.bytes = static_cast<uint64_t>(st.st_size);
      s.last_event_ms = int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1000000;
    }
    out.push_back(std::move(s));
  }
  return out;
}

// "<job>/algo-N-<seconds>" -> job and host.
std::optional<std::pair<std::string, std::string>> ParseStreamName(const std::string& name) {
  auto slash = name.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string rest = name.substr(slash + 1);
  auto dash = rest.rfind('-');
  if (dash == std::string::npos) return std::nullopt;
  return std::make_pair(name.substr(0, slash), rest.substr(0, dash));
}

std::optional<uint64_t> TokenOffset(const std::string& token, char direction) {
  if (token.size() < 3 || token[0] != direction || token[1] != '/') return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(token.data() + 2, token.data() + token.size(), v);
  if (ec != std::errc() || p != token.data() + token.size()) return std::nullopt;
  return v;
}

}  // namespace

StatusOr<JobRunner*> JobLogStreams::Group(const json& request) {
  std::string group = request.value("logGroupName", request.value("logGroupIdentifier", ""));
  auto it = groups_.find(group);
  if (it == groups_.end()) return NotFound("The specified log group does not exist.");
  return it->second.get();
}

StatusOr<json> JobLogStreams::DescribeLogStreams(const json& request) {
  ASSIGN_OR_RETURN(JobRunner * runner, Group(request));
  const std::string prefix = request.value("logStreamNamePrefix", "");
  std::vector<Stream> streams;
  if (auto slash = prefix.find('/'); slash != std::string::npos) {
    if (auto job = runner->Load(prefix.substr(0, slash)); job.ok()) streams = StreamsOf(*runner, *job);
  } else {
    JobListQuery q;
    q.name_contains = prefix;
    q.limit = 1000;
    ASSIGN_OR_RETURN(auto page, runner->deps().store->ListJobs([&] {
      q.kind = runner->kind().kind();
      return q;
    }()));
    for (const auto& job : page.first) {
      for (auto& s : StreamsOf(*runner, job)) streams.push_back(std::move(s));
    }
  }
  std::erase_if(streams, [&](const Stream& s) { return s.name.rfind(prefix, 0) != 0; });
  bool by_time = request.value("orderBy", "LogStreamName") == "LastEventTime";
  bool descending = request.value("descending", false);
  std::sort(streams.begin(), streams.end(), [&](const Stream& a, const Stream& b) {
    bool less = by_time ? std::tie(a.last_event_ms, a.name) < std::tie(b.last_event_ms, b.name) : a.name < b.name;
    bool greater = by_time ? std::tie(b.last_event_ms, b.name) < std::tie(a.last_event_ms, a.name) : b.name < a.name;
    return descending ? greater : less;
  });
  size_t offset = 0;
  if (request.contains("nextToken")) {
    auto o = TokenOffset(request["nextToken"].get<std::string>(), 'n');
    if (!o) return InvalidArgument("The specified nextToken is invalid.");
    offset = static_cast<size_t>(*o);
  }
  size_t limit = static_cast<size_t>(request.value("limit", 50));
  json out = json::array();
  for (size_t i = offset; i < streams.size() && i < offset + limit; ++i) {
    const Stream& s = streams[i];
    out.push_back({{"logStreamName", s.name},
                   {"creationTime", s.creation_ms},
                   {"firstEventTimestamp", s.creation_ms},
                   {"lastEventTimestamp", s.last_event_ms},
                   {"lastIngestionTime", s.last_event_ms},
                   {"storedBytes", s.bytes},
                   {"arn", fmt::format("arn:aws:logs:us-east-1:000000000000:log-group:{}:log-stream:{}",
                                       request.value("logGroupName", ""), s.name)}});
  }
  json reply = {{"logStreams", out}};
  if (offset + limit < streams.size()) reply["nextToken"] = fmt::format("n/{}", offset + limit);
  return reply;
}

StatusOr<json> JobLogStreams::GetLogEvents(const json& request) {
  ASSIGN_OR_RETURN(JobRunner * runner, Group(request));
  const std::string stream = request["logStreamName"].get<std::string>();
  auto parsed = ParseStreamName(stream);
  if (!parsed) return NotFound("The specified log stream does not exist.");
  auto job = runner->Load(parsed->first);
  if (!job.ok()) return NotFound("The specified log stream does not exist.");
  auto streams = StreamsOf(*runner, *job);
  auto it = std::find_if(streams.begin(), streams.end(), [&](const Stream& s) { return s.name == stream; });
  if (it == streams.end()) return NotFound("The specified log stream does not exist.");
  const size_t limit = static_cast<size_t>(request.value("limit", 10000));
  const bool ended = job->status != "InProgress" && job->status != "Stopping";

  // Forward from a token or the head; without either, the latest events (as CloudWatch does).
  uint64_t start = 0;
  bool from_tail = false;
  if (request.contains("nextToken")) {
    const std::string token = request["nextToken"].get<std::string>();
    if (auto f = TokenOffset(token, 'f')) {
      start = *f;
    } else if (auto b = TokenOffset(token, 'b')) {
      start = *b > kMaxEventBytes ? *b - kMaxEventBytes : 0;
    } else {
      return InvalidArgument("The specified nextToken is invalid.");
    }
  } else if (!request.value("startFromHead", false)) {
    from_tail = true;
    start = it->bytes > kMaxEventBytes ? it->bytes - kMaxEventBytes : 0;
  }
  start = std::min<uint64_t>(start, it->bytes);
  ASSIGN_OR_RETURN(std::string text, runner->ReadLog(it->job, it->host, start, kMaxEventBytes));

  // Whole lines only (a partial last line waits for its newline while the job runs).
  std::vector<std::pair<uint64_t, std::string>> lines;  // end offset, line
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      if (ended) lines.emplace_back(start + text.size(), text.substr(pos));
      break;
    }
    lines.emplace_back(start + nl + 1, text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (from_tail && start > 0 && !lines.empty()) lines.erase(lines.begin());  // began mid-line
  size_t first = from_tail && lines.size() > limit ? lines.size() - limit : 0;
  size_t last = std::min(lines.size(), first + limit);
  json events = json::array();
  const int64_t ts = job->doc.contains(runner->kind().start_time_field())
                         ? static_cast<int64_t>(job->doc[runner->kind().start_time_field()].get<double>() * 1000)
                         : job->creation_time_ms;
  for (size_t i = first; i < last; ++i) {
    events.push_back({{"timestamp", ts}, {"message", lines[i].second}, {"ingestionTime", it->last_event_ms}});
  }
  uint64_t begin_offset = first == 0 ? start : lines[first - 1].first;
  uint64_t end_offset = last == 0 ? begin_offset : lines[last - 1].first;
  return json{{"events", events},
              {"nextForwardToken", fmt::format("f/{}", end_offset)},
              {"nextBackwardToken", fmt::format("b/{}", begin_offset)}};
}

}  // namespace loam::jobs
