// The CloudWatch Logs subset (AWS JSON 1.1, X-Amz-Target: Logs_20140328.<Operation>) that the
// SageMaker Python SDK calls to follow job logs, over Loam's job log streams.
#pragma once

#include <memory>

#include "http/router.h"
#include "jobs/log_streams.h"

namespace loam::api::cloudwatch {

void AddLogsRoutes(http::Router& router, std::shared_ptr<jobs::JobLogStreams> streams);

}  // namespace loam::api::cloudwatch
