#include "http/router.h"

#include <algorithm>

#include "common/strings.h"

namespace loam::http {

void Router::Add(Route route) { routes_.push_back(std::make_unique<Route>(std::move(route))); }

RouteMatch Router::Match(std::string_view method, std::string_view path, std::string_view amz_target,
                         std::string_view content_type) const {
  auto method_ok = [&](const Route& r) {
    return std::find(r.methods.begin(), r.methods.end(), method) != r.methods.end();
  };
  RouteMatch mismatch;  // a route whose path matched but whose methods did not
  if (!amz_target.empty() && path == "/") {
    for (const auto& r : routes_) {
      if (!r->amz_target_prefix.empty() && StartsWith(amz_target, r->amz_target_prefix)) {
        if (method_ok(*r)) return {r.get(), false};
        if (!mismatch.route) mismatch = {r.get(), true};
      }
    }
  }
  if (amz_target.empty() && !content_type.empty()) {
    for (const auto& r : routes_) {
      if (!r->content_type_prefix.empty() && !r->prefix && r->path == path && method_ok(*r) &&
          content_type.size() >= r->content_type_prefix.size() &&
          EqualsIgnoreCase(content_type.substr(0, r->content_type_prefix.size()), r->content_type_prefix)) {
        return {r.get(), false};
      }
    }
  }
  for (const auto& r : routes_) {
    if (!r->prefix && r->amz_target_prefix.empty() && r->content_type_prefix.empty() && r->path == path) {
      if (method_ok(*r)) return {r.get(), false};
      if (!mismatch.route) mismatch = {r.get(), true};
    }
  }
  if (mismatch.route) return mismatch;
  size_t best_len = 0;
  const Route* best = nullptr;
  const Route* best_mismatch = nullptr;
  for (const auto& r : routes_) {
    if (!r->prefix || !StartsWith(path, r->path) || r->path.size() < best_len) continue;
    if (r->path.size() > best_len) {
      best_len = r->path.size();
      best = nullptr;
      best_mismatch = nullptr;
    }
    if (method_ok(*r)) {
      if (!best) best = r.get();
    } else if (!best_mismatch) {
      best_mismatch = r.get();
    }
  }
  if (best) return {best, false};
  if (best_mismatch) return {best_mismatch, true};
  return {};
}

}  // namespace loam::http
