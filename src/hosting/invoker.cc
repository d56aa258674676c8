#include "hosting/invoker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <fmt/format.h>

namespace loam::hosting {

namespace asio = boost::asio;

namespace {

// Decrements a counter when the request is done with it, however the coroutine ends.
struct CountGuard {
  explicit CountGuard(std::atomic<int>& c) : counter(c) { ++counter; }
  ~CountGuard() { --counter; }
  std::atomic<int>& counter;
};

}  // namespace

Invoker::Invoker(InvokerOptions options, asio::io_context& ioc)
    : options_(options), ioc_(ioc), rng_(std::random_device{}()) {}

void Invoker::Invoke(Invocation inv, std::function<void(InvocationResult)> done) {
  InvocationResult result;
  std::shared_ptr<Deployment> d = fleet_ ? fleet_->Live(inv.endpoint) : nullptr;
  if (!d) {
    result.outcome = InvocationResult::Outcome::kEndpointNotFound;
    done(std::move(result));
    return;
  }
  // Counted from here, so a deployment being retired waits for this request too.
  auto deployment_load = std::make_shared<CountGuard>(d->in_flight);
  // The variant: the one asked for, else by weight among those with a healthy instance.
  std::shared_ptr<Variant> variant;
  if (!inv.target_variant.empty()) {
    for (auto& v : d->variants) {
      if (v->name == inv.target_variant) variant = v;
    }
    if (!variant) {
      result.outcome = InvocationResult::Outcome::kUnknownVariant;
      result.message = fmt::format("Invalid variant name {} for endpoint {}.", inv.target_variant, inv.endpoint);
      done(std::move(result));
      return;
    }
  } else {
    double total = 0.0;
    for (auto& v : d->variants) total += v->weight.load();
    double pick;
    {
      std::lock_guard lock(rng_mu_);
      pick = std::uniform_real_distribution<double>(0.0, total)(rng_);
    }
    for (auto& v : d->variants) {
      variant = v;
      pick -= v->weight.load();
      if (pick < 0.0) break;
    }
  }
  result.variant = variant->name;
  // The instance: fewest requests outstanding among the healthy ones; ties go to a random one.
  std::shared_ptr<Instance> instance;
  {
    std::lock_guard lock(d->mu);
    int best = 0;
    size_t ties = 0;
    for (auto& inst : variant->instances) {
      if (!inst->healthy || inst->retired) continue;
      const int load = inst->outstanding.load();
      if (!instance || load < best) {
        instance = inst;
        best = load;
        ties = 1;
      } else if (load == best) {
        std::lock_guard rl(rng_mu_);
        if (std::uniform_int_distribution<size_t>(0, ties++)(rng_) == 0) instance = inst;
      }
    }
  }
  if (!instance) {
    result.outcome = InvocationResult::Outcome::kNoHealthyInstance;
    result.message = fmt::format("No instance of variant {} of endpoint {} is healthy right now.", variant->name, inv.endpoint);
    done(std::move(result));
    return;
  }
  auto pool = instance->Pool();
  auto instance_load = std::make_shared<CountGuard>(instance->outstanding);
  asio::co_spawn(
      ioc_,
      [this, d, instance, pool, deployment_load, instance_load, inv = std::move(inv), result = std::move(result),
       done = std::move(done)]() mutable -> asio::awaitable<void> {
        WorkerRequest req{.content_type = inv.content_type, .accept = inv.accept,
                          .custom_attributes = inv.custom_attributes, .body = std::move(inv.body),
                          .timeout = options_.timeout};
        WorkerResponse res = co_await pool->Invoke(std::move(req));
        if (res.transport != WorkerResponse::Transport::kOk) {
          result.outcome = InvocationResult::Outcome::kModelError;
          result.message = res.transport_error;
        } else {
          result.model_status = res.status;
          if (res.status < 200 || res.status >= 300) result.outcome = InvocationResult::Outcome::kModelError;
          result.content_type = std::move(res.content_type);
          result.custom_attributes = std::move(res.custom_attributes);
          result.body = std::move(res.body);
        }
        instance_load.reset();
        deployment_load.reset();
        done(std::move(result));
      },
      asio::detached);
}

}  // namespace loam::hosting
