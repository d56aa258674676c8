#include "hosting/data_capture.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

#include <algorithm>
#include <fstream>
#include <map>
#include <tuple>

#include "common/base64.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/strings.h"

namespace loam::hosting {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// SageMaker's encodings: CSV and JSON types named in CaptureContentTypeHeader keep their text;
// anything else (or text that is not UTF-8) is base64.
json Side(const std::string& content_type, const std::string& data, const char* mode, const CaptureSettings& s) {
  const std::string media = MediaType(content_type);
  std::string encoding = "BASE64";
  if (IsValidUtf8(data)) {
    if (std::find(s.csv_types.begin(), s.csv_types.end(), media) != s.csv_types.end()) encoding = "CSV";
    if (std::find(s.json_types.begin(), s.json_types.end(), media) != s.json_types.end()) encoding = "JSON";
  }
  return {{"observedContentType", content_type},
          {"mode", mode},
          {"data", encoding == "BASE64" ? Base64Encode(data) : data},
          {"encoding", encoding}};
}

// The UTC calendar time of a time point (fmt formats a time_point in local time).
std::tm Utc(std::chrono::system_clock::time_point t) { return fmt::gmtime(std::chrono::system_clock::to_time_t(t)); }


}  // namespace

StatusOr<std::shared_ptr<const CaptureSettings>> ParseCaptureConfig(const json& dc) {
  if (!dc.is_object() || !dc.value("EnableCapture", true)) return std::shared_ptr<const CaptureSettings>();
  auto s = std::make_shared<CaptureSettings>();
  s->sampling_percentage = dc.value("InitialSamplingPercentage", 0);
  if (s->sampling_percentage < 0 || s->sampling_percentage > 100) {
    return InvalidArgument("DataCaptureConfig.InitialSamplingPercentage must be between 0 and 100.");
  }
  s->destination = dc.value("DestinationS3Uri", "");
  for (const auto& option : dc.value("CaptureOptions", json::array())) {
    const std::string mode = option.value("CaptureMode", "");
    if (mode == "Input" || mode == "InputAndOutput") s->input = true;
    if (mode == "Output" || mode == "InputAndOutput") s->output = true;
  }
  if (!s->input && !s->output) {
    return InvalidArgument("DataCaptureConfig.CaptureOptions must name a CaptureMode (Input, Output or InputAndOutput).");
  }
  const json header = dc.value("CaptureContentTypeHeader", json::object());
  for (const auto& t : header.value("CsvContentTypes", json::array())) s->csv_types.push_back(MediaType(t.get<std::string>()));
  for (const auto& t : header.value("JsonContentTypes", json::array())) s->json_types.push_back(MediaType(t.get<std::string>()));
  return std::shared_ptr<const CaptureSettings>(std::move(s));
}

std::string CaptureLine(const CapturedEvent& e, const std::string& event_id) {
  json capture = json::object();
  if (e.settings->input) capture["endpointInput"] = Side(e.input_type, e.input, "INPUT", *e.settings);
  if (e.settings->output) capture["endpointOutput"] = Side(e.output_type, e.output, "OUTPUT", *e.settings);
  json metadata = {{"eventId", event_id},
                   {"inferenceTime", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", Utc(e.time))}};
  if (!e.inference_id.empty()) metadata["inferenceId"] = e.inference_id;
  // Headers (content types, the inference id) are not validated as UTF-8: replace what is not.
  return json{{"captureData", capture}, {"eventMetadata", metadata}, {"eventVersion", "0"}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

CaptureWriter::CaptureWriter(CaptureWriterOptions options, std::shared_ptr<const jobs::DataLocations> locations,
                             fs::path staging_dir)
    : options_(options), locations_(std::move(locations)), staging_dir_(std::move(staging_dir)), rng_(std::random_device{}()) {
  std::error_code ec;
  fs::create_directories(staging_dir_, ec);
  thread_ = std::thread([this] { Loop(); });
}

CaptureWriter::~CaptureWriter() { Shutdown(); }

bool CaptureWriter::Sample(const CaptureSettings& settings) {
  if (settings.sampling_percentage >= 100) return true;
  if (settings.sampling_percentage <= 0) return false;
  std::lock_guard lock(rng_mu_);
  return std::uniform_int_distribution<int>(0, 99)(rng_) < settings.sampling_percentage;
}

void CaptureWriter::Record(CapturedEvent event) {
  const size_t bytes = event.input.size() + event.output.size() + 512;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queued_bytes_ + bytes > options_.max_queued_bytes) {
      ++dropped_;
      return;
    }
    queued_bytes_ += bytes;
    queue_.push_back(std::move(event));
  }
}

void CaptureWriter::Flush() {
  std::unique_lock lock(mu_);
  if (stopping_ && !thread_.joinable()) return;
  const uint64_t ticket = ++flush_requests_;
  wake_.notify_all();
  flushed_.wait(lock, [&] { return flushes_done_ >= ticket || !thread_.joinable(); });
}

void CaptureWriter::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  flushed_.notify_all();
}

void CaptureWriter::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait_for(lock, options_.flush_interval, [&] { return stopping_ || flush_requests_ > flushes_done_; });
    const uint64_t requested = flush_requests_;
    std::vector<CapturedEvent> events;
    events.swap(queue_);
    queued_bytes_ = 0;
    const bool stop = stopping_;
    lock.unlock();
    if (!events.empty()) {
      const size_t count = events.size();
      try {
        Write(std::move(events));
      } catch (const std::exception& e) {  // never past this thread: the events are lost, counted
        dropped_ += count;
        log::Error("capture.write_failed", {{"error", e.what()}});
      }
    }
    lock.lock();
    flushes_done_ = requested;
    flushed_.notify_all();
    if (stop) return;
  }
}

void CaptureWriter::Write(std::vector<CapturedEvent> events) {
  // One object per destination, endpoint, variant and hour, as SageMaker's prefixes are laid out.
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<Key, std::pair<std::string, std::chrono::system_clock::time_point>> objects;
  for (const CapturedEvent& e : events) {
    Key key{e.settings->destination, e.endpoint, e.variant, fmt::format("{:%Y/%m/%d/%H}", Utc(e.time))};
    auto [it, fresh] = objects.try_emplace(key, std::string(), e.time);
    it->second.first += CaptureLine(e, NewUuid());
    it->second.first += '\n';
  }
  for (auto& [key, object] : objects) {
    const auto& [destination, endpoint, variant, hour] = key;
    const auto first = object.second;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(first.time_since_epoch()).count() % 1000;
    const std::string name = fmt::format("{:%M-%S}-{:03d}-{}.jsonl", Utc(first), ms, NewUuidHex());
    const std::string uri = jobs::DataLocations::Join(destination, fmt::format("{}/{}/{}/{}", endpoint, variant, hour, name));
    const fs::path file = staging_dir_ / NewUuidHex();
    {
      std::ofstream out(file, std::ios::binary);
      out.write(object.first.data(), static_cast<std::streamsize>(object.first.size()));
    }
    const size_t lines = static_cast<size_t>(std::count(object.first.begin(), object.first.end(), '\n'));
    if (Status s = locations_->UploadFile(file, uri, /*consume=*/true); !s.ok()) {
      dropped_ += lines;
      log::Warn("capture.write_failed", {{"uri", uri}, {"error", s.ToString()}});
      std::error_code ec;
      fs::remove(file, ec);
      continue;
    }
    written_ += lines;
  }
}

}  // namespace loam::hosting
