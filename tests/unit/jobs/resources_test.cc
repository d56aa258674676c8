// Instance shapes and the first-come-first-served scheduler. The scheduler tests observe
// order only (through the cancellation predicate, which runs on every wake-up), never time.
#include "jobs/resources.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace loam::jobs {
namespace {

TEST(ShapeOfTest, SizesAndFamilies) {
  InstanceShape s = ShapeOf("ml.m5.large", 0);
  EXPECT_EQ(s.vcpus, 2);
  EXPECT_EQ(s.memory_mb, 8 * 1024);
  EXPECT_EQ(s.gpus, 0);

  s = ShapeOf("ml.m5.xlarge", 0);
  EXPECT_EQ(s.vcpus, 4);
  EXPECT_EQ(s.memory_mb, 16 * 1024);

  s = ShapeOf("ml.c5.2xlarge", 0);
  EXPECT_EQ(s.vcpus, 8);
  EXPECT_EQ(s.memory_mb, 16 * 1024);  // 2 GiB per vCPU

  s = ShapeOf("ml.r5.large", 0);
  EXPECT_EQ(s.vcpus, 2);
  EXPECT_EQ(s.memory_mb, 16 * 1024);  // 8 GiB per vCPU

  s = ShapeOf("ml.m5.24xlarge", 2);
  EXPECT_EQ(s.vcpus, 96);
  EXPECT_EQ(s.memory_mb, 384 * 1024);
  EXPECT_EQ(s.gpus, 0);

  EXPECT_EQ(ShapeOf("ml.t3.medium", 0).vcpus, 1);
  EXPECT_EQ(ShapeOf("ml.c5n.xlarge", 0).memory_mb, 8 * 1024);
}

TEST(ShapeOfTest, GpuFamiliesGetTheMachinesGpus) {
  InstanceShape s = ShapeOf("ml.g4dn.xlarge", 3);
  EXPECT_EQ(s.vcpus, 4);
  EXPECT_EQ(s.gpus, 3);
  EXPECT_EQ(ShapeOf("ml.p3.2xlarge", 1).gpus, 1);
  EXPECT_EQ(ShapeOf("ml.g5.12xlarge", 4).vcpus, 48);
  EXPECT_EQ(ShapeOf("ml.g4dn.xlarge", 0).gpus, 0);
  EXPECT_EQ(ShapeOf("ml.m5.xlarge", 3).gpus, 0);
}

TEST(ShapeOfTest, LocalAndUnknownTypes) {
  InstanceShape s = ShapeOf("local", 2);
  EXPECT_EQ(s.vcpus, 1);
  EXPECT_EQ(s.memory_mb, 1024);
  EXPECT_EQ(s.gpus, 0);
  s = ShapeOf("local_gpu", 2);
  EXPECT_EQ(s.vcpus, 1);
  EXPECT_EQ(s.gpus, 2);
  s = ShapeOf("weird-type", 2);
  EXPECT_EQ(s.vcpus, 1);
  EXPECT_EQ(s.memory_mb, 1024);
  EXPECT_EQ(s.gpus, 0);
}

TEST(MachineCapacityTest, AtLeastOneCpuAndAGigabyte) {
  Capacity c = MachineCapacity();
  EXPECT_GE(c.cpus, 1);
  EXPECT_GE(c.memory_mb, 1024);
}

// An Acquire running on its own thread. Every call of its cancellation predicate (one per
// wake-up of the waiting Acquire) is counted, so the test can tell "it looked and still
// waits" from "it was admitted" without sleeping.
class Probe {
 public:
  Probe(Scheduler& scheduler, int cpus, int64_t memory_mb, std::vector<std::string>* order = nullptr,
        std::mutex* order_mu = nullptr, std::string name = "")
      : thread_([this, &scheduler, cpus, memory_mb, order, order_mu, name] {
          bool admitted = scheduler.Acquire(cpus, memory_mb, [this] {
            std::lock_guard lock(mu_);
            ++checks_;
            cv_.notify_all();
            return cancel_;
          });
          if (admitted && order) {
            std::lock_guard lock(*order_mu);
            order->push_back(name);
          }
          std::lock_guard lock(mu_);
          done_ = true;
          admitted_ = admitted;
          cv_.notify_all();
        }) {}
  ~Probe() {
    if (thread_.joinable()) thread_.join();
  }

  // Waits until the predicate has run at least `n` times or Acquire returned.
  void WaitChecks(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return checks_ >= n || done_; });
  }
  int checks() {
    std::lock_guard lock(mu_);
    return checks_;
  }
  // Proves it is still queued now: check number seen+1 began after this call started, and
  // check seen+2 only happens if seen+1 ended in waiting again rather than in admission.
  // (Wake() takes the scheduler's lock, which the probe holds from a check until it waits.)
  bool StillWaiting(Scheduler& scheduler) {
    int seen = checks();
    scheduler.Wake();
    WaitChecks(seen + 1);
    scheduler.Wake();
    WaitChecks(seen + 2);
    std::lock_guard lock(mu_);
    return !done_;
  }
  // Blocks until Acquire returned; its result.
  bool Result() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return admitted_;
  }
  void Cancel() {
    std::lock_guard lock(mu_);
    cancel_ = true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int checks_ = 0;
  bool cancel_ = false, done_ = false, admitted_ = false;
  std::thread thread_;
};

auto Never() {
  return [] { return false; };
}

TEST(SchedulerTest, AdmitsWhatFitsRightAway) {
  Scheduler s({4, 8192});
  EXPECT_EQ(s.capacity().cpus, 4);
  EXPECT_TRUE(s.Acquire(2, 4096, Never()));
  EXPECT_TRUE(s.Acquire(2, 4096, Never()));
  s.Release(2, 4096);
  s.Release(2, 4096);
}

TEST(SchedulerTest, SecondAcquireWaitsForRelease) {
  Scheduler s({4, 8192});
  ASSERT_TRUE(s.Acquire(4, 1024, Never()));
  Probe second(s, 2, 1024);
  second.WaitChecks(1);
  EXPECT_TRUE(second.StillWaiting(s));
  EXPECT_TRUE(second.StillWaiting(s));
  s.Release(4, 1024);
  EXPECT_TRUE(second.Result());
  s.Release(2, 1024);
}

TEST(SchedulerTest, MemoryAloneCanMakeAJobWait) {
  Scheduler s({8, 4096});
  ASSERT_TRUE(s.Acquire(1, 3072, Never()));
  Probe second(s, 1, 2048);
  second.WaitChecks(1);
  EXPECT_TRUE(second.StillWaiting(s));
  s.Release(1, 3072);
  EXPECT_TRUE(second.Result());
}

TEST(SchedulerTest, FirstComeFirstServedWithoutBackfill) {
  Scheduler s({4, 8192});
  std::mutex order_mu;
  std::vector<std::string> order;
  ASSERT_TRUE(s.Acquire(4, 1024, Never()));
  Probe big(s, 4, 1024, &order, &order_mu, "big");
  big.WaitChecks(1);  // queued first
  Probe small(s, 1, 1024, &order, &order_mu, "small");
  small.WaitChecks(1);  // queued behind it

  // One CPU frees up: the small job would fit but the big one is ahead of it.
  s.Release(1, 0);
  EXPECT_TRUE(small.StillWaiting(s));
  EXPECT_TRUE(big.StillWaiting(s));

  s.Release(3, 1024);
  EXPECT_TRUE(big.Result());
  EXPECT_TRUE(small.StillWaiting(s));  // the big job now holds all four CPUs
  s.Release(4, 1024);
  EXPECT_TRUE(small.Result());
  std::lock_guard lock(order_mu);
  EXPECT_EQ(order, (std::vector<std::string>{"big", "small"}));
}

TEST(SchedulerTest, DemandAboveCapacityIsCappedAndRunsAlone) {
  Scheduler s({2, 2048});
  ASSERT_TRUE(s.Acquire(16, 65536, Never()));  // bigger than the machine: admitted, alone
  Probe next(s, 1, 512);
  next.WaitChecks(1);
  EXPECT_TRUE(next.StillWaiting(s));
  s.Release(16, 65536);  // released with the same (capped) demand
  EXPECT_TRUE(next.Result());
  s.Release(1, 512);
  // And the machine is whole again.
  EXPECT_TRUE(s.Acquire(2, 2048, Never()));
  s.Release(2, 2048);
}

TEST(SchedulerTest, BigJobWaitsForTheWholeMachine) {
  Scheduler s({2, 2048});
  ASSERT_TRUE(s.Acquire(1, 512, Never()));
  Probe big(s, 16, 65536);
  big.WaitChecks(1);
  EXPECT_TRUE(big.StillWaiting(s));
  s.Release(1, 512);
  EXPECT_TRUE(big.Result());
  s.Release(16, 65536);
}

TEST(SchedulerTest, CancelledWaiterLeavesTheQueue) {
  Scheduler s({4, 4096});
  ASSERT_TRUE(s.Acquire(4, 4096, Never()));
  Probe head(s, 4, 1024);
  head.WaitChecks(1);
  Probe behind(s, 1, 1024);
  behind.WaitChecks(1);
  s.Release(2, 2048);  // behind fits now, but head is first
  EXPECT_TRUE(behind.StillWaiting(s));

  head.Cancel();
  s.Wake();
  EXPECT_FALSE(head.Result());
  EXPECT_TRUE(behind.Result());  // no longer stuck behind the cancelled head
  s.Release(2, 2048);
  s.Release(1, 1024);
  EXPECT_TRUE(s.Acquire(4, 4096, Never()));
  s.Release(4, 4096);
}

TEST(SchedulerTest, CancelledBeforeAdmissionReturnsFalse) {
  Scheduler s({4, 4096});
  EXPECT_FALSE(s.Acquire(1, 1, [] { return true; }));
  EXPECT_TRUE(s.Acquire(4, 4096, Never()));  // the cancelled one took nothing
  s.Release(4, 4096);
}

TEST(SchedulerTest, AcquireRunningCountsWithoutQueueing) {
  Scheduler s({2, 2048});
  s.AcquireRunning(2, 1024);  // a re-attached job
  s.AcquireRunning(8, 8192);  // over capacity: still counted, never blocks
  Probe next(s, 1, 512);
  next.WaitChecks(1);
  EXPECT_TRUE(next.StillWaiting(s));
  s.Release(2, 1024);
  EXPECT_TRUE(next.StillWaiting(s));
  s.Release(8, 8192);
  EXPECT_TRUE(next.Result());
  s.Release(1, 512);
}

}  // namespace
}  // namespace loam::jobs
