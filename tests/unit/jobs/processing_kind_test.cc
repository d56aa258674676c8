// Processing jobs: request checks, the per-instance layout (config files, inputs at their
// LocalPath, sharding), the command line with and without the sandbox, params and outcomes.
#include "jobs/processing_kind.h"

#include <gtest/gtest.h>

#include "jobs_test_util.h"
#include "test_util.h"

namespace loam::jobs {
namespace {

namespace fs = std::filesystem;
using loam::testing::FilesUnder;
using loam::testing::ReadFile;
using loam::testing::WriteFile;
using nlohmann::json;

class ProcessingKindTest : public ::testing::Test {
 protected:
  ProcessingKindTest() : locations_(dir_.path() / "data/objects"), runtimes_("/venv/bin/python") {
    ctx_.locations = &locations_;
    ctx_.runtimes = &runtimes_;
    ctx_.data_dir = dir_.path() / "data";
    ctx_.tracking_uri = "http://127.0.0.1:7070";
    for (const char* f : {"p0.csv", "p1.csv", "p2.csv"}) WriteFile(locations_.object_root() / "bkt/raw" / f, f);
    WriteFile(dir_.path() / "code/prep.py", "print('prep')\n");
  }

  json Doc() const {
    return json::parse(R"({
      "ProcessingJobName": "prep", "RoleArn": "arn:aws:iam::000000000000:role/x",
      "ProcessingResources": {"ClusterConfig": {"InstanceCount": 2, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 5}},
      "AppSpecification": {"ImageUri": "sagemaker-scikit-learn:1.2-1-cpu-py3",
                           "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/prep.py"],
                           "ContainerArguments": ["--ratio", "0.2", "--out", "/opt/ml/processing/output/train", "--flag"]},
      "Environment": {"MODE": "fast"},
      "ProcessingInputs": [
        {"InputName": "raw", "S3Input": {"S3Uri": "s3://bkt/raw", "LocalPath": "/opt/ml/processing/input/raw",
         "S3DataType": "S3Prefix", "S3InputMode": "File", "S3DataDistributionType": "ShardedByS3Key"}},
        {"InputName": "code", "S3Input": {"S3Uri": ")" + (dir_.path() / "code").string() + R"(",
         "LocalPath": "/opt/ml/processing/input/code", "S3DataType": "S3Prefix", "S3InputMode": "File",
         "S3DataDistributionType": "FullyReplicated"}}],
      "ProcessingOutputConfig": {"Outputs": [{"OutputName": "train",
         "S3Output": {"S3Uri": "s3://bkt/out/train", "LocalPath": "/opt/ml/processing/output/train", "S3UploadMode": "EndOfJob"}}]},
      "_loam": {"run_id": "r1"}
    })");
  }

  loam::testing::ScratchDir dir_;
  loam::testing::LocalDataLocations locations_;
  RuntimeRegistry runtimes_;
  WorkspaceContext ctx_;
  ProcessingKind kind_;
};

TEST_F(ProcessingKindTest, AcceptsWhatTheSdkSends) {
  Status s = CheckProcessingRequest(Doc(), locations_);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ProcessingKindTest, RefusesWhatItCannotRun) {
  auto refused = [&](const std::function<void(json&)>& change, const std::string& words) {
    json doc = Doc();
    change(doc);
    Status s = CheckProcessingRequest(doc, locations_);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << words;
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
  };
  refused([](json& d) { d["AppSpecification"].erase("ContainerEntrypoint"); }, "ContainerEntrypoint");
  refused([](json& d) { d["ProcessingInputs"][0]["S3Input"]["LocalPath"] = "/tmp/raw"; }, "/opt/ml/processing/");
  refused([](json& d) { d["ProcessingInputs"][0]["S3Input"]["LocalPath"] = "/opt/ml/processing/../../etc"; },
          "/opt/ml/processing/");
  refused([](json& d) { d["ProcessingInputs"][1]["InputName"] = "raw"; }, "unique");
  refused([](json& d) { d["ProcessingInputs"][0]["S3Input"]["S3InputMode"] = "Pipe"; }, "Pipe");
  refused([](json& d) { d["ProcessingInputs"][0]["S3Input"]["S3CompressionType"] = "Gzip"; }, "Gzip");
  refused([](json& d) { d["ProcessingInputs"][0]["S3Input"]["S3DataType"] = "ManifestFile"; }, "ManifestFile");
  refused([](json& d) { d["ProcessingInputs"][0] = {{"InputName", "ds"}, {"DatasetDefinition", json::object()}}; },
          "S3Input");
  refused([](json& d) { d["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = "relative/path"; },
          "relative/path");
}

TEST_F(ProcessingKindTest, ShardsInputsAndWritesTheConfigFiles) {
  auto job = kind_.Prepare(Doc(), dir_.path() / "jobs/prep", "r1", ctx_);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_EQ(job->hosts, (std::vector<std::string>{"algo-1", "algo-2"}));
  fs::path a1 = dir_.path() / "jobs/prep/algo-1", a2 = dir_.path() / "jobs/prep/algo-2";
  EXPECT_EQ(FilesUnder(a1 / "processing/input/raw"), (std::set<std::string>{"p0.csv", "p2.csv"}));
  EXPECT_EQ(FilesUnder(a2 / "processing/input/raw"), (std::set<std::string>{"p1.csv"}));
  EXPECT_EQ(FilesUnder(a2 / "processing/input/code"), (std::set<std::string>{"prep.py"}));
  EXPECT_TRUE(fs::is_directory(a2 / "processing/output/train"));
  json resource = json::parse(ReadFile(a2 / "config/resourceconfig.json"));
  EXPECT_EQ(resource["current_host"], "algo-2");
  EXPECT_EQ(resource["hosts"], json({"algo-1", "algo-2"}));
  json config = json::parse(ReadFile(a1 / "config/processingjobconfig.json"));
  EXPECT_EQ(config["ProcessingJobName"], "prep");
  EXPECT_FALSE(config.contains("_loam"));
}

TEST_F(ProcessingKindTest, CommandLineInsideAndOutsideTheSandbox) {
  ctx_.sandbox = true;
  auto boxed = kind_.Prepare(Doc(), dir_.path() / "jobs/prep", "r1", ctx_);
  ASSERT_TRUE(boxed.ok()) << boxed.status().ToString();
  const auto& spec = boxed->processes[1];
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"/venv/bin/python", "/opt/ml/processing/input/code/prep.py", "--ratio",
                                                 "0.2", "--out", "/opt/ml/processing/output/train", "--flag"}));
  EXPECT_EQ(spec.cwd, "/opt/ml/processing");
  EXPECT_TRUE(spec.sandbox.enabled);
  EXPECT_EQ(spec.sandbox.ml_root, dir_.path() / "jobs/prep/algo-2");
  bool mode = false, run = false;
  for (const auto& [k, v] : spec.env) {
    mode |= k == "MODE" && v == "fast";
    run |= k == "MLFLOW_RUN_ID" && v == "r1";
  }
  EXPECT_TRUE(mode && run);

  ctx_.sandbox = false;
  auto open = kind_.Prepare(Doc(), dir_.path() / "jobs/prep2", "r1", ctx_);
  ASSERT_TRUE(open.ok());
  fs::path root = dir_.path() / "jobs/prep2/algo-1";
  EXPECT_EQ(open->processes[0].argv[1], (root / "processing/input/code/prep.py").string());
  EXPECT_EQ(open->processes[0].argv[5], (root / "processing/output/train").string());
  EXPECT_EQ(open->processes[0].cwd, root / "processing");
}

TEST_F(ProcessingKindTest, ArgumentsBecomeParams) {
  auto params = kind_.RunParams(Doc());
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].key, "ratio");
  EXPECT_EQ(params[0].value, "0.2");
  EXPECT_EQ(params[2].key, "flag");
  EXPECT_EQ(params[2].value, "true");
}

TEST_F(ProcessingKindTest, FinishRecordsTheOutcome) {
  json doc = Doc();
  kind_.Finish(doc, {JobOutcome::Kind::kFailed, "", "bad schema"}, 42.0);
  EXPECT_EQ(doc["ProcessingJobStatus"], "Failed");
  EXPECT_EQ(doc["FailureReason"], "bad schema");
  EXPECT_EQ(doc["ProcessingEndTime"], 42.0);
  json stopped = Doc();
  kind_.Finish(stopped, {JobOutcome::Kind::kStopped, "max_runtime", ""}, 43.0);
  EXPECT_EQ(stopped["ProcessingJobStatus"], "Stopped");
  EXPECT_FALSE(stopped.contains("FailureReason"));
}

}  // namespace
}  // namespace loam::jobs
