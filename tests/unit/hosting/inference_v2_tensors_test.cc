// Open Inference Protocol tensors to and from a SageMaker model server's JSON.
#include "api/inference_v2/tensors.h"

#include <gtest/gtest.h>

namespace loam::api::inference_v2 {
namespace {

using nlohmann::json;

json Input(const std::string& name, json shape, const std::string& datatype, json data) {
  return {{"name", name}, {"shape", std::move(shape)}, {"datatype", datatype}, {"data", std::move(data)}};
}

TEST(InferenceV2Tensors, FlatDataIsNestedInItsShape) {
  auto body = RequestBody(json::array({Input("x", {2, 3}, "FP32", {1, 2, 3, 4, 5, 6.5})}));
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, json::parse("[[1,2,3],[4,5,6.5]]"));
}

TEST(InferenceV2Tensors, NestedDataKeepsItsShapeAndScalarsStayScalars) {
  auto nested = RequestBody(json::array({Input("x", {1, 2}, "INT64", json::parse("[[7,8]]"))}));
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(*nested, json::parse("[[7,8]]"));
  auto scalar = RequestBody(json::array({Input("x", json::array(), "BOOL", {true})}));
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(*scalar, json(true));
}

TEST(InferenceV2Tensors, SeveralInputsBecomeAnObjectByName) {
  auto body = RequestBody(json::array({Input("a", {2}, "FP64", {1.5, 2.5}), Input("b", {1}, "BYTES", {"s"})}));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, json::parse(R"({"a":[1.5,2.5],"b":["s"]})"));
  auto twice = RequestBody(json::array({Input("a", {1}, "FP64", {1}), Input("a", {1}, "FP64", {2})}));
  EXPECT_EQ(twice.status().message(), "input 'a' appears twice");
}

TEST(InferenceV2Tensors, MalformedTensorsAreRefusedWithTheReason) {
  EXPECT_EQ(RequestBody(json::array({Input("x", {2, 2}, "FP32", {1, 2, 3})})).status().message(),
            "input 'x': shape [2,2] holds 4 elements but data has 3");
  EXPECT_EQ(RequestBody(json::array({Input("x", {1}, "FP128", {1})})).status().message(),
            "input 'x': unknown datatype 'FP128'");
  EXPECT_EQ(RequestBody(json::array({Input("x", {2}, "INT32", {1, 2.5})})).status().message(),
            "input 'x': element 2.5 is not of datatype INT32");
  EXPECT_EQ(RequestBody(json::array({Input("x", {1}, "UINT8", {-1})})).status().message(),
            "input 'x': element -1 is not of datatype UINT8");
  EXPECT_EQ(RequestBody(json::array({Input("x", {-1}, "FP32", {1})})).status().message(),
            "input 'x': shape dimensions must be non-negative integers");
  EXPECT_EQ(RequestBody(json::array()).status().message(), "\"inputs\" must be a non-empty array");
  json no_data = {{"name", "x"}, {"shape", {1}}, {"datatype", "FP32"}};
  EXPECT_EQ(RequestBody(json::array({no_data})).status().message(),
            "input 'x' has no \"data\" (binary tensor data is not supported)");
}

TEST(InferenceV2Tensors, HostileShapesAndNestingAreRefusedBeforeAnyWork) {
  // Far past any rank; parsed, since copying a json that deep would recurse as deep.
  const std::string nested = std::string(100000, '[') + "1" + std::string(100000, ']');
  json inputs = json::parse(R"([{"name": "x", "shape": [1], "datatype": "FP64", "data": )" + nested + "}]");
  EXPECT_EQ(RequestBody(inputs).status().message(), "input 'x': data is nested deeper than shape [1]");
  EXPECT_EQ(RequestBody(json::array({Input("x", {4294967296, 4294967296}, "FP64", json::array())})).status().message(),
            "input 'x': shape [4294967296,4294967296] is too large");
  EXPECT_EQ(RequestBody(json::array({Input("x", {3000000000, 0}, "FP64", json::array())})).status().message(),
            "input 'x': shape [3000000000,0] is too large");
  auto zero = RequestBody(json::array({Input("x", {2, 0}, "FP64", json::array())}));
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(*zero, json::parse("[[], []]"));
  EXPECT_EQ(RequestBody(json::array({Input("x", {1}, "INT32", json::array({json::object()}))})).status().message(),
            "input 'x': element object is not of datatype INT32");
}

TEST(InferenceV2Tensors, AnswersBecomeTensorsWithTheirShapeAndType) {
  auto one = OutputTensors(json::parse(R"({"predictions":[[1.5,2],[3,4]]})"), "out");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, json::parse(R"([{"name":"out","shape":[2,2],"datatype":"FP64","data":[1.5,2,3,4]}])"));
  auto ints = OutputTensors(json::parse("[1,2,3]"), "output-0");
  ASSERT_TRUE(ints.ok());
  EXPECT_EQ((*ints)[0]["datatype"], "INT64");
  EXPECT_EQ((*ints)[0]["shape"], json::parse("[3]"));
  auto named = OutputTensors(json::parse(R"({"label":["a","b"],"score":[true,false]})"), "unused");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(*named, json::parse(R"([{"name":"label","shape":[2],"datatype":"BYTES","data":["a","b"]},
                                    {"name":"score","shape":[2],"datatype":"BOOL","data":[true,false]}])"));
  auto scalar = OutputTensors(json(4.25), "y");
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ((*scalar)[0]["shape"], json::parse("[1]"));
  EXPECT_EQ(OutputTensors(json::parse("[[1,2],[3]]"), "y").status().message(), "the model's answer is a ragged list");
  EXPECT_EQ(OutputTensors(json::parse("[1,[2]]"), "y").status().message(), "the model's answer is a ragged list");
  EXPECT_EQ(OutputTensors(json::parse("[[2],1]"), "y").status().message(), "the model's answer is a ragged list");
  EXPECT_EQ(OutputTensors(json::parse("[1,\"a\"]"), "y").status().message(), "the model's output 'y' mixes element types");
}

}  // namespace
}  // namespace loam::api::inference_v2
