// Open Inference Protocol (KServe v2) tensors in JSON, and their translation to and from the
// JSON a SageMaker model server takes and answers (nested lists, or an object of them).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/status.h"

namespace loam::api::inference_v2 {

// An infer request's `inputs` as the body a SageMaker model server's JSON input_fn reads: the
// one input's data as a nested list in its shape, or, for several inputs, an object of them by
// name. InvalidArgument (a 400) for a malformed tensor: unknown datatype, data that does not
// fill the shape or has elements of another type.
StatusOr<nlohmann::json> RequestBody(const nlohmann::json& inputs);

// The model's JSON answer as `outputs` tensors: {"predictions": v} and a plain value give one
// tensor named `default_name`; an object of several values gives one tensor per key. Shapes
// and datatypes (BOOL, INT64, FP64, BYTES) are those of the values; ragged lists are an error.
StatusOr<nlohmann::json> OutputTensors(const nlohmann::json& answer, const std::string& default_name);

// One value as a tensor {name, shape, datatype, data}.
StatusOr<nlohmann::json> ToTensor(const std::string& name, const nlohmann::json& value);

}  // namespace loam::api::inference_v2
