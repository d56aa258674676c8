// Status and StatusOr: the error currency at every component boundary.
// Each protocol adapter maps a StatusCode to its own wire error exactly once.
#pragma once

#include <optional>
#include <string_view>
#include <string>
#include <utility>
#include <variant>

namespace loam {

enum class StatusCode {
  kOk,
  kInvalidArgument,   // bad name, length, enum, JSON, filter...
  kNotFound,          // the named resource does not exist
  kAlreadyExists,     // a resource with that name/key exists
  kFailedPrecondition,// the resource is in the wrong state for the call
  kResourceExhausted, // a limit was hit (payload, batch size)
  kUnimplemented,
  kInternal,          // a bug or an environment failure (disk, database)
  kUnavailable,       // a service Loam depends on cannot be reached now (retrying later may work)
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }

// A Status that also names the protocol error type its adapter answers (e.g.
// "ExecutionDoesNotExist"), for services whose protocol tells errors apart more finely than
// StatusCode does. The type rides in a "[aws:<Type>] " message prefix so the Status stays the
// plain currency every layer passes around; adapters strip it (ErrorTypeOf).
Status TypedError(StatusCode code, std::string_view type, std::string_view message);
// The type TypedError gave `status` ("" when none) and its message without the prefix.
std::pair<std::string_view, std::string_view> ErrorTypeOf(const Status& status);

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace loam

#define LOAM_CONCAT_INNER(a, b) a##b
#define LOAM_CONCAT(a, b) LOAM_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                   \
  do {                                          \
    ::loam::Status _loam_status = (expr);       \
    if (!_loam_status.ok()) return _loam_status; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(LOAM_CONCAT(_loam_so_, __LINE__), lhs, expr)
