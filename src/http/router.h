// Routes requests by method and path (exact or prefix) or, for AWS JSON protocols, by the
// X-Amz-Target header, or, for the AWS Query protocol, by a form-encoded Content-Type on an
// exact path, so every protocol shares one port.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/request.h"

namespace loam::http {

using Handler = std::function<Response(Request&)>;
// Completes an asynchronous handler's request: called exactly once, from any thread.
using Responder = std::function<void(Response)>;
// A handler whose answer comes later (e.g. from a model worker): it must not block, and `req`
// stays valid until `done` has been called.
using AsyncHandler = std::function<void(Request& req, Responder done)>;
// Turns a Status into the protocol's error response (one per protocol).
using ErrorFormatter = std::function<Response(const Status&)>;

enum class BodyMode {
  kBuffered,  // body read into Request::body, up to max_body_bytes
  kStreamed,  // body streamed into a temporary file, Request::body_file
};

struct Route {
  std::string name;               // metrics label, e.g. "mlflow.runs.get"
  std::vector<std::string> methods;
  std::string path;               // exact path, or prefix when `prefix` is true
  bool prefix = false;
  std::string amz_target_prefix;  // non-empty: matches POST / with X-Amz-Target starting with it
  // Non-empty: matches only requests on the exact `path` whose Content-Type starts with it
  // (case-insensitively) and that carry no X-Amz-Target, ahead of the routes by path alone.
  std::string content_type_prefix;
  BodyMode body_mode = BodyMode::kBuffered;
  size_t max_body_bytes = 16 * 1024 * 1024;
  Handler handler;
  AsyncHandler async_handler;  // used instead of `handler` when set
  ErrorFormatter errors;
};

struct RouteMatch {
  const Route* route = nullptr;
  bool method_not_allowed = false;  // path matched, method did not
};

class Router {
 public:
  void Add(Route route);
  // X-Amz-Target routes first, then Content-Type routes, then exact paths, then prefixes (the
  // longest wins). When a path matches but no route for it takes the method, the first route
  // registered for it answers (405, in its protocol's error shape); a Content-Type route only
  // ever matches with its method.
  RouteMatch Match(std::string_view method, std::string_view path, std::string_view amz_target,
                   std::string_view content_type = {}) const;

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace loam::http
