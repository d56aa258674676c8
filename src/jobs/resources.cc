#include "jobs/resources.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <regex>

namespace loam::jobs {

InstanceShape ShapeOf(const std::string& type, int machine_gpus) {
  InstanceShape shape;
  if (type == "local" || type == "local_gpu") {
    shape.vcpus = 1;
    shape.memory_mb = 1024;
    shape.gpus = type == "local_gpu" ? machine_gpus : 0;
    return shape;
  }
  // ml.<family>.<size>, e.g. ml.m5.xlarge, ml.g4dn.2xlarge, ml.c5.large
  static const std::regex kType(R"(ml\.([a-z]+)(\d*)([a-z-]*)\.(\d*)(nano|micro|small|medium|large|xlarge)(?:-.*)?)");
  std::smatch m;
  if (!std::regex_match(type, m, kType)) return shape;
  std::string family = m[1];
  std::string size = m[5];
  int multiple = m[4].length() ? std::stoi(m[4]) : 1;
  if (size == "nano" || size == "micro" || size == "small" || size == "medium") shape.vcpus = 1;
  else if (size == "large") shape.vcpus = 2;
  else shape.vcpus = 4 * multiple;
  int gib_per_cpu = 4;
  if (family == "c") gib_per_cpu = 2;
  if (family == "r" || family == "x") gib_per_cpu = 8;
  shape.memory_mb = int64_t{shape.vcpus} * gib_per_cpu * 1024;
  bool gpu_family = family == "p" || family == "g" || family == "trn" || family == "inf";
  shape.gpus = gpu_family ? machine_gpus : 0;
  return shape;
}

int DetectGpus() {
  FILE* p = ::popen("nvidia-smi --list-gpus 2>/dev/null", "r");
  if (!p) return 0;
  int n = 0;
  std::array<char, 512> line;
  while (std::fgets(line.data(), line.size(), p)) {
    if (std::string(line.data()).rfind("GPU ", 0) == 0) ++n;
  }
  ::pclose(p);
  return n;
}

Capacity MachineCapacity() {
  Capacity c;
  c.cpus = std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  int64_t pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  c.memory_mb = std::max<int64_t>(1024, pages * page / (1024 * 1024));
  return c;
}

bool Scheduler::Acquire(int cpus, int64_t memory_mb, const std::function<bool()>& cancelled) {
  cpus = std::min(cpus, capacity_.cpus);
  memory_mb = std::min(memory_mb, capacity_.memory_mb);
  std::unique_lock lock(mu_);
  uint64_t ticket = next_ticket_++;
  waiting_.push_back(ticket);
  while (true) {
    if (cancelled()) {
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), ticket));
      cv_.notify_all();
      return false;
    }
    bool first = waiting_.front() == ticket;
    if (first && used_cpus_ + cpus <= capacity_.cpus && used_memory_mb_ + memory_mb <= capacity_.memory_mb) {
      waiting_.pop_front();
      used_cpus_ += cpus;
      used_memory_mb_ += memory_mb;
      cv_.notify_all();
      return true;
    }
    cv_.wait(lock);
  }
}

void Scheduler::AcquireRunning(int cpus, int64_t memory_mb) {
  std::lock_guard lock(mu_);
  used_cpus_ += std::min(cpus, capacity_.cpus);
  used_memory_mb_ += std::min(memory_mb, capacity_.memory_mb);
}

void Scheduler::Release(int cpus, int64_t memory_mb) {
  cpus = std::min(cpus, capacity_.cpus);
  memory_mb = std::min(memory_mb, capacity_.memory_mb);
  std::lock_guard lock(mu_);
  used_cpus_ -= cpus;
  used_memory_mb_ -= memory_mb;
  cv_.notify_all();
}

void Scheduler::Wake() {
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

}  // namespace loam::jobs
