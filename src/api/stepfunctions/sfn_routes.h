// The Step Functions API (AWS JSON 1.0, X-Amz-Target: AWSStepFunctions.<Operation>) over the
// workflow service.
#pragma once

#include <memory>

#include "http/router.h"
#include "workflows/workflow_service.h"

namespace loam::api::stepfunctions {

void AddRoutes(http::Router& router, std::shared_ptr<workflows::WorkflowService> workflows);

}  // namespace loam::api::stepfunctions
