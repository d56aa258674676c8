// What a job instance asks of the machine, and the scheduler that admits jobs against the
// machine's cores and memory in arrival order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace loam::jobs {

struct InstanceShape {
  int vcpus = 1;
  int64_t memory_mb = 1024;
  int gpus = 0;
};

// The shape of an ml.* instance type from its size (large: 2 vCPUs, xlarge: 4, 2xlarge: 8, ...,
// 4 GiB per vCPU for general purpose, 2 for c*, 8 for r*/x*); `local` and `local_gpu` get
// one CPU's share and the GPUs present.
InstanceShape ShapeOf(const std::string& instance_type, int machine_gpus);

// GPUs visible through nvidia-smi, 0 when there is none.
int DetectGpus();

struct Capacity {
  int cpus = 1;
  int64_t memory_mb = 1024;
};
Capacity MachineCapacity();

// First come, first served admission: a job waits until its whole demand fits (capped at the
// capacity, so a job bigger than the machine still runs, alone).
class Scheduler {
 public:
  explicit Scheduler(Capacity capacity) : capacity_(capacity) {}

  // Blocks until admitted or `cancelled()` turns true (checked on every wake-up); returns
  // whether it was admitted.
  bool Acquire(int cpus, int64_t memory_mb, const std::function<bool()>& cancelled);
  // Counts a job that already runs (re-attached after a restart) without queueing it.
  void AcquireRunning(int cpus, int64_t memory_mb);
  void Release(int cpus, int64_t memory_mb);
  void Wake();  // re-check cancellations

  Capacity capacity() const { return capacity_; }

 private:
  Capacity capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  int used_cpus_ = 0;
  int64_t used_memory_mb_ = 0;
  uint64_t next_ticket_ = 0, serving_ = 0;
  std::deque<uint64_t> waiting_;
};

}  // namespace loam::jobs
