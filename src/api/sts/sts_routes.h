// STS over the AWS Query protocol (`POST /`, a form-encoded body `Action=...&Version=2011-06-15`,
// XML answers): GetCallerIdentity, which the SageMaker Python SDK calls to learn the account
// (e.g. for `Session.default_bucket()`). Any signature is accepted; every caller is the account's
// root. Other actions and versions are refused in the Query protocol's ErrorResponse shape.
#pragma once

#include <string>

#include "common/account.h"
#include "http/router.h"

namespace loam::api::sts {

inline constexpr std::string_view kStsVersion = "2011-06-15";
inline constexpr std::string_view kStsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";

struct StsOptions {
  std::string account = std::string(kAccountId);
  std::string partition = "aws";
};

// Adds `POST /` with Content-Type application/x-www-form-urlencoded (ahead of S3's catch-all).
void AddRoutes(http::Router& router, StsOptions options);

// One request: its form parameters parsed, routed to its action (exposed for tests).
http::Response HandleStsRequest(const StsOptions& options, const http::Request& request);

// A Status in the Query protocol's error shape:
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
http::Response StsErrorResponse(const Status& status);

}  // namespace loam::api::sts
