#include "api/sts/sts_routes.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include "objects/xml.h"
#include "common/ids.h"

namespace loam::api::sts {

namespace {

constexpr size_t kMaxBody = 64 * 1024;
constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";

// An error as the Query protocol spells it: <Type> is Sender for the caller's mistakes,
// Receiver for the service's own failures.
struct QueryError {
  unsigned http_status = 400;
  std::string code;
  std::string message;
};

// AWS request ids are uuids in their 8-4-4-4-12 form.
std::string NewRequestId() {
  std::string hex = NewUuidHex();
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4), hex.substr(16, 4),
                     hex.substr(20));
}

http::Response Xml(unsigned status, std::string body, const std::string& request_id) {
  http::Response res = http::Response::Text(status, std::move(body), "text/xml");
  res.headers.emplace_back("x-amzn-RequestId", request_id);
  return res;
}

http::Response ErrorXml(const QueryError& error) {
  std::string request_id = NewRequestId();
  objects::XmlWriter xml("ErrorResponse", kStsNamespace);
  xml.Open("Error")
      .Element("Type", error.http_status >= 500 ? "Receiver" : "Sender")
      .Element("Code", error.code)
      .Element("Message", error.message)
      .Close()
      .Element("RequestId", request_id);
  return Xml(error.http_status, xml.Finish(), request_id);
}

http::Response GetCallerIdentity(const StsOptions& options) {
  std::string request_id = NewRequestId();
  objects::XmlWriter xml("GetCallerIdentityResponse", kStsNamespace);
  xml.Open("GetCallerIdentityResult")
      .Element("Arn", fmt::format("arn:{}:iam::{}:root", options.partition, options.account))
      .Element("UserId", options.account)  // the root user's id is its account's
      .Element("Account", options.account)
      .Close()
      .Open("ResponseMetadata")
      .Element("RequestId", request_id)
      .Close();
  return Xml(200, xml.Finish(), request_id);
}

// The first value of a form parameter, from the body or else the URL's query string.
std::optional<std::string> Param(const std::vector<std::pair<std::string, std::string>>& form,
                                 const http::Request& request, std::string_view name) {
  for (const auto& [k, v] : form) {
    if (k == name) return v;
  }
  if (auto v = request.QueryValue(name)) return std::string(*v);
  return std::nullopt;
}

}  // namespace

http::Response StsErrorResponse(const Status& status) {
  switch (status.code()) {
    case StatusCode::kResourceExhausted:
      return ErrorXml({413, "RequestEntityTooLarge", status.message()});
    case StatusCode::kInternal:
    case StatusCode::kOk:
      return ErrorXml({500, "InternalFailure", status.message()});
    case StatusCode::kUnimplemented:
      return ErrorXml({400, "InvalidAction", status.message()});
    default:
      return ErrorXml({400, "InvalidParameterValue", status.message()});
  }
}

http::Response HandleStsRequest(const StsOptions& options, const http::Request& request) {
  auto form = http::ParseQuery(request.body);
  auto action = Param(form, request, "Action");
  auto version = Param(form, request, "Version");
  if (!action || action->empty()) {
    return ErrorXml({400, "MissingAction", "The request must contain the parameter Action."});
  }
  if (!version || version->empty()) {
    return ErrorXml({400, "MissingParameter", "The request must contain the parameter Version."});
  }
  if (*action == "GetCallerIdentity" && *version == kStsVersion) return GetCallerIdentity(options);
  return ErrorXml({400, "InvalidAction", fmt::format("Could not find operation {} for version {}", *action, *version)});
}

void AddRoutes(http::Router& router, StsOptions options) {
  router.Add({.name = "sts",
              .methods = {"POST"},
              .path = "/",
              .content_type_prefix = std::string(kFormContentType),
              .max_body_bytes = kMaxBody,
              .handler = [options = std::move(options)](http::Request& req) { return HandleStsRequest(options, req); },
              .errors = StsErrorResponse});
}

}  // namespace loam::api::sts
