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

Invoker::Invoker(InvokerOptions options, std::vector<asio::io_context*> loops)
    : options_(options), loops_(std::move(loops)), rng_(std::random_device{}()),
      native_pool_(std::max(2u, std::thread::hardware_concurrency())) {}

Invoker::~Invoker() { native_pool_.join(); }

void Invoker::Finish(InvocationResult result, std::optional<CapturedEvent> capture,
                     const std::function<void(InvocationResult)>& done) {
  if (capture && result.outcome == InvocationResult::Outcome::kOk) {
    capture->output_type = result.content_type;
    if (capture->settings->output) capture->output = result.body;
    capture_->Record(std::move(*capture));
  }
  done(std::move(result));
}

bool Invoker::Ready(const std::string& endpoint) const {
  std::shared_ptr<Deployment> d = fleet_ ? fleet_->Live(endpoint) : nullptr;
  if (!d) return false;
  std::lock_guard lock(d->mu);
  for (const auto& v : d->variants) {
    for (const auto& inst : v->instances) {
      if (inst->healthy && !inst->retired) return true;
    }
  }
  return false;
}

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
  auto instance_load = std::make_shared<CountGuard>(instance->outstanding);
  // Sampled for data capture: the request keeps a copy of its body for the capture event.
  std::optional<CapturedEvent> capture;
  if (d->capture && capture_ && capture_->Sample(*d->capture)) {
    capture.emplace(CapturedEvent{.settings = d->capture, .endpoint = inv.endpoint, .variant = variant->name,
                                  .input_type = inv.content_type, .input = d->capture->input ? inv.body : std::string(),
                                  .inference_id = inv.inference_id, .time = std::chrono::system_clock::now()});
  }
  if (instance->native) {
    asio::post(native_pool_, [this, d, variant, instance, deployment_load, instance_load, inv = std::move(inv),
                              result = std::move(result), capture = std::move(capture), done = std::move(done)]() mutable {
      NativeResponse res;
      try {
        res = ServeXgboost(*instance->native, inv.content_type, inv.accept, inv.body, variant->default_accept);
      } catch (const std::exception& e) {  // never past this thread: the request gets a 500
        res = {500, "text/plain", std::string("InternalError: ") + e.what()};
      }
      result.model_status = res.status;
      if (res.status < 200 || res.status >= 300) result.outcome = InvocationResult::Outcome::kModelError;
      result.content_type = std::move(res.content_type);
      result.body = std::move(res.body);
      instance_load.reset();
      deployment_load.reset();
      Finish(std::move(result), std::move(capture), done);
    });
    return;
  }
  const size_t loop = inv.loop % loops_.size();
  auto pool = instance->Pool(loop);
  asio::co_spawn(
      *loops_[loop],
      [this, d, instance, pool, deployment_load, instance_load, inv = std::move(inv), result = std::move(result),
       capture = std::move(capture), done = std::move(done)]() mutable -> asio::awaitable<void> {
        WorkerRequest req{.content_type = inv.content_type, .accept = inv.accept,
                          .custom_attributes = inv.custom_attributes, .body = std::move(inv.body),
                          .timeout = options_.timeout};
        WorkerResponse res = co_await pool->Invoke(std::move(req));
        if (res.transport == WorkerResponse::Transport::kOk) instance->last_answer = std::chrono::steady_clock::now();
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
        Finish(std::move(result), std::move(capture), done);
      },
      asio::detached);
}

}  // namespace loam::hosting
