#include "common/status.h"

namespace loam {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

namespace {

constexpr std::string_view kTypePrefixOpen = "[aws:";
constexpr std::string_view kTypePrefixClose = "] ";

}  // namespace

Status TypedError(StatusCode code, std::string_view type, std::string_view message) {
  std::string text;
  text.reserve(kTypePrefixOpen.size() + type.size() + kTypePrefixClose.size() + message.size());
  text.append(kTypePrefixOpen).append(type).append(kTypePrefixClose).append(message);
  return Status(code, std::move(text));
}

std::pair<std::string_view, std::string_view> ErrorTypeOf(const Status& status) {
  std::string_view m = status.message();
  if (m.starts_with(kTypePrefixOpen)) {
    auto close = m.find(kTypePrefixClose, kTypePrefixOpen.size());
    if (close != std::string_view::npos) {
      return {m.substr(kTypePrefixOpen.size(), close - kTypePrefixOpen.size()), m.substr(close + kTypePrefixClose.size())};
    }
  }
  return {std::string_view(), m};
}

}  // namespace loam
