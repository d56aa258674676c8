// Endpoint data capture (DataCaptureConfig): a sampled share of invocations is recorded as
// SageMaker writes it, one JSON line per request ({"captureData": {"endpointInput",
// "endpointOutput"}, "eventMetadata", "eventVersion"}), in objects named
// <DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl.
//
// A request only pays for the sampling decision and a copy of its bodies into a bounded
// queue; a writer thread encodes the lines and stores one object per (endpoint, variant,
// hour) every flush interval. When the queue is full, events are dropped and counted rather
// than ever delaying a request.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "jobs/data_locations.h"

namespace loam::hosting {

struct CaptureSettings {
  bool input = false;
  bool output = false;
  int sampling_percentage = 0;  // 0..100
  std::string destination;      // DestinationS3Uri
  std::vector<std::string> csv_types, json_types;  // media types captured as text (lower case)
};

// The settings of an endpoint config's DataCaptureConfig; null when capture is off (or absent).
StatusOr<std::shared_ptr<const CaptureSettings>> ParseCaptureConfig(const nlohmann::json& data_capture_config);

struct CapturedEvent {
  std::shared_ptr<const CaptureSettings> settings;
  std::string endpoint, variant;
  std::string input_type, input;
  std::string output_type, output;
  std::string inference_id;
  std::chrono::system_clock::time_point time;
};

// One event as SageMaker's capture line (without the newline).
std::string CaptureLine(const CapturedEvent& event, const std::string& event_id);

struct CaptureWriterOptions {
  std::chrono::milliseconds flush_interval{5000};
  size_t max_queued_bytes = 64 * 1024 * 1024;
};

class CaptureWriter {
 public:
  CaptureWriter(CaptureWriterOptions options, std::shared_ptr<const jobs::DataLocations> locations,
                std::filesystem::path staging_dir);
  ~CaptureWriter();

  // Whether to capture this request, at the settings' sampling percentage.
  bool Sample(const CaptureSettings& settings);
  // Queues an event; never blocks on storage (drops it when the queue is full).
  void Record(CapturedEvent event);
  // Stores everything queued so far; returns when it is stored.
  void Flush();
  // Flushes and ends the writer thread.
  void Shutdown();

  uint64_t dropped() const { return dropped_; }
  uint64_t written() const { return written_; }

 private:
  void Loop();
  void Write(std::vector<CapturedEvent> events);

  CaptureWriterOptions options_;
  std::shared_ptr<const jobs::DataLocations> locations_;
  std::filesystem::path staging_dir_;
  std::mutex mu_;
  std::condition_variable wake_, flushed_;
  std::vector<CapturedEvent> queue_;  // guarded by mu_
  size_t queued_bytes_ = 0;           // guarded by mu_
  uint64_t flush_requests_ = 0;       // guarded by mu_
  uint64_t flushes_done_ = 0;         // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  std::atomic<uint64_t> dropped_{0}, written_{0};
  std::thread thread_;
};

}  // namespace loam::hosting
