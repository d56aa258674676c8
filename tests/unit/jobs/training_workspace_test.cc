// Training workspaces: the /opt/ml layout per instance, the command line and the toolkit's
// environment, from a realistic CreateTrainingJob document.
#include "jobs/training_workspace.h"

#include <gtest/gtest.h>

#include <map>

#include "jobs/archive.h"
#include "jobs_test_util.h"
#include "test_util.h"

namespace loam::jobs {
namespace {

namespace fs = std::filesystem;
using loam::testing::FilesUnder;
using loam::testing::ReadFile;
using loam::testing::WriteFile;
using nlohmann::json;

constexpr const char* kImage = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310";

std::map<std::string, std::string> EnvMap(const executors::ProcessSpec& spec) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : spec.env) {
    EXPECT_TRUE(out.emplace(k, v).second) << "duplicate environment variable " << k;
  }
  return out;
}

json ReadJson(const fs::path& file) { return json::parse(ReadFile(file)); }

class TrainingWorkspaceTest : public ::testing::Test {
 protected:
  TrainingWorkspaceTest() : locations_(dir_.path() / "data/objects"), runtimes_("/opt/default/bin/python") {
    runtimes_.Add({"torch", {"*pytorch-training*"}, "/opt/torch/bin/python"});
    ctx_.locations = &locations_;
    ctx_.runtimes = &runtimes_;
    ctx_.machine_cpus = 16;
    ctx_.machine_gpus = 0;
    ctx_.tracking_uri = "http://127.0.0.1:5000";
    ctx_.data_dir = dir_.path() / "data";

    fs::path objects = locations_.object_root();
    WriteFile(objects / "bkt/data/train/a.csv", "a\n");
    WriteFile(objects / "bkt/data/train/b.csv", "b\n");
    WriteFile(objects / "bkt/data/train/c.csv", "c\n");
    WriteFile(objects / "bkt/data/val/v.csv", "v\n");
    WriteFile(dir_.path() / "src/train.py", "print('training')\n");
    WriteFile(dir_.path() / "src/util/helper.py", "X = 1\n");
    WriteFile(dir_.path() / "src/run.sh", "echo run\n");
    Status packed = PackDirectory(dir_.path() / "src", objects / "bkt/code/sourcedir.tar.gz");
    EXPECT_TRUE(packed.ok()) << packed.ToString();
  }

  // A CreateTrainingJob document as the SageMaker Python SDK's PyTorch estimator sends it.
  json Doc() const {
    return json::parse(R"({
      "TrainingJobName": "wsjob",
      "TrainingJobArn": "arn:aws:sagemaker:us-east-1:000000000000:training-job/wsjob",
      "RoleArn": "arn:aws:iam::000000000000:role/SageMaker",
      "AlgorithmSpecification": {"TrainingImage": ")" + std::string(kImage) + R"(", "TrainingInputMode": "File"},
      "HyperParameters": {
        "sagemaker_program": "\"train.py\"",
        "sagemaker_submit_directory": "\"s3://bkt/code/sourcedir.tar.gz\"",
        "sagemaker_container_log_level": "20",
        "sagemaker_region": "\"us-east-1\"",
        "epochs": "10",
        "lr": "0.05",
        "model-type": "\"resnet\"",
        "b": "true"
      },
      "InputDataConfig": [
        {"ChannelName": "train", "ContentType": "text/csv",
         "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/data/train",
                                         "S3DataDistributionType": "ShardedByS3Key"}}},
        {"ChannelName": "validation", "InputMode": "FastFile",
         "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/data/val/",
                                         "S3DataDistributionType": "FullyReplicated"}}}
      ],
      "OutputDataConfig": {"S3OutputPath": "s3://bkt/output"},
      "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 1},
      "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
      "Environment": {"MY_VAR": "x", "SM_LOG_LEVEL": "10"},
      "_loam": {"experiment_id": "7"}
    })");
  }

  StatusOr<PreparedJob> Prepare(const json& doc) {
    return PrepareTrainingWorkspace(doc, job_dir(), "run123", ctx_);
  }
  fs::path job_dir() const { return dir_.path() / "jobs/wsjob"; }

  loam::testing::ScratchDir dir_;
  loam::testing::LocalDataLocations locations_;
  RuntimeRegistry runtimes_;
  WorkspaceContext ctx_;
};

TEST_F(TrainingWorkspaceTest, PathsAndHostNames) {
  EXPECT_EQ(HostNames(3), (std::vector<std::string>{"algo-1", "algo-2", "algo-3"}));
  EXPECT_EQ(InstanceRoot("/j", "algo-2"), fs::path("/j/algo-2"));
  EXPECT_EQ(InstanceLog("/j", "algo-2"), fs::path("/j/logs/algo-2.log"));
  EXPECT_EQ(InstanceExitFile("/j", "algo-2"), fs::path("/j/logs/algo-2.exit"));
}

TEST_F(TrainingWorkspaceTest, LaysOutEachInstanceLikeSageMaker) {
  json doc = Doc();
  auto ws = Prepare(doc);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_EQ(ws->hosts, (std::vector<std::string>{"algo-1", "algo-2"}));
  ASSERT_EQ(ws->processes.size(), 2u);

  const std::vector<std::set<std::string>> train_files = {{"a.csv", "c.csv"}, {"b.csv"}};  // sharded by key
  const json input_data_config = {
      {"train", {{"TrainingInputMode", "File"}, {"S3DistributionType", "ShardedByS3Key"},
                 {"RecordWrapperType", "None"}, {"ContentType", "text/csv"}}},
      {"validation", {{"TrainingInputMode", "FastFile"}, {"S3DistributionType", "FullyReplicated"},
                      {"RecordWrapperType", "None"}}}};
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(ws->hosts[i]);
    const fs::path root = job_dir() / ws->hosts[i];
    for (const char* sub : {"input/config", "input/data", "model", "output/data", "output/intermediate",
                            "checkpoints", "code"}) {
      EXPECT_TRUE(fs::is_directory(root / sub)) << sub;
    }
    EXPECT_TRUE(fs::is_directory(job_dir() / "logs"));

    EXPECT_EQ(ReadJson(root / "input/config/hyperparameters.json"), doc["HyperParameters"]);
    json rc = ReadJson(root / "input/config/resourceconfig.json");
    EXPECT_EQ(rc["current_host"], ws->hosts[i]);
    EXPECT_EQ(rc["hosts"], json::array({"algo-1", "algo-2"}));
    EXPECT_EQ(rc["current_instance_type"], "ml.m5.xlarge");
    EXPECT_EQ(rc["network_interface_name"], "eth0");
    ASSERT_EQ(rc["instance_groups"].size(), 1u);
    EXPECT_EQ(rc["instance_groups"][0]["hosts"], rc["hosts"]);
    EXPECT_EQ(ReadJson(root / "input/config/inputdataconfig.json"), input_data_config);

    // File mode: copies, this instance's shard only.
    EXPECT_EQ(FilesUnder(root / "input/data/train"), train_files[i]);
    for (const auto& f : train_files[i]) {
      EXPECT_FALSE(fs::is_symlink(root / "input/data/train" / f));
      EXPECT_EQ(ReadFile(root / "input/data/train" / f), f.substr(0, 1) + "\n");
    }
    // FastFile: links to the objects, every file on every instance.
    ASSERT_TRUE(fs::is_symlink(root / "input/data/validation/v.csv"));
    EXPECT_EQ(fs::read_symlink(root / "input/data/validation/v.csv"),
              locations_.object_root() / "bkt/data/val/v.csv");

    // The source bundle, unpacked.
    EXPECT_EQ(ReadFile(root / "code/train.py"), "print('training')\n");
    EXPECT_EQ(ReadFile(root / "code/util/helper.py"), "X = 1\n");

    const executors::ProcessSpec& spec = ws->processes[i];
    EXPECT_EQ(spec.argv, (std::vector<std::string>{"/opt/torch/bin/python", "train.py", "-b", "True", "--epochs",
                                                   "10", "--lr", "0.05", "--model-type", "resnet"}));
    EXPECT_EQ(spec.cwd, root / "code");
    EXPECT_EQ(spec.log_file, job_dir() / "logs" / (ws->hosts[i] + ".log"));
    EXPECT_EQ(spec.exit_file, job_dir() / "logs" / (ws->hosts[i] + ".exit"));
    EXPECT_FALSE(spec.sandbox.enabled);
    EXPECT_EQ(spec.sandbox.ml_root, root);
    EXPECT_FALSE(spec.sandbox.isolate_network);

    auto env = EnvMap(spec);
    EXPECT_EQ(env["SM_CHANNELS"], "[\"train\",\"validation\"]");
    EXPECT_EQ(env["SM_CHANNEL_TRAIN"], (root / "input/data/train").string());
    EXPECT_EQ(env["SM_CHANNEL_VALIDATION"], (root / "input/data/validation").string());
    EXPECT_EQ(json::parse(env["SM_HPS"]), json({{"b", true}, {"epochs", 10}, {"lr", 0.05}, {"model-type", "resnet"}}));
    EXPECT_EQ(env["SM_HP_EPOCHS"], "10");
    EXPECT_EQ(env["SM_HP_LR"], "0.05");
    EXPECT_EQ(env["SM_HP_MODEL-TYPE"], "resnet");
    EXPECT_EQ(env["SM_HP_B"], "true");
    EXPECT_EQ(env.count("SM_HP_SAGEMAKER_PROGRAM"), 0u);
    EXPECT_EQ(env["SM_HOSTS"], "[\"algo-1\",\"algo-2\"]");
    EXPECT_EQ(env["SM_CURRENT_HOST"], ws->hosts[i]);
    EXPECT_EQ(env["SM_CURRENT_INSTANCE_TYPE"], "ml.m5.xlarge");
    EXPECT_EQ(env["SM_NUM_CPUS"], "4");  // the instance's, not the machine's 16
    EXPECT_EQ(env["SM_NUM_GPUS"], "0");
    EXPECT_EQ(json::parse(env["SM_USER_ARGS"]),
              json::array({"-b", "True", "--epochs", "10", "--lr", "0.05", "--model-type", "resnet"}));
    EXPECT_EQ(env["SM_USER_ENTRY_POINT"], "train.py");
    EXPECT_EQ(env["SM_MODULE_NAME"], "train");
    EXPECT_EQ(env["SM_MODULE_DIR"], "s3://bkt/code/sourcedir.tar.gz");
    EXPECT_EQ(env["SM_MODEL_DIR"], (root / "model").string());
    EXPECT_EQ(env["SM_OUTPUT_DATA_DIR"], (root / "output/data").string());
    EXPECT_EQ(env["SM_CHECKPOINT_DIR"], (root / "checkpoints").string());
    EXPECT_EQ(env["SM_INPUT_DATA_CONFIG"], input_data_config.dump());
    EXPECT_EQ(json::parse(env["SM_RESOURCE_CONFIG"]), rc);
    EXPECT_EQ(env["TRAINING_JOB_NAME"], "wsjob");
    EXPECT_EQ(env["TRAINING_JOB_ARN"], doc["TrainingJobArn"]);
    EXPECT_EQ(env["MLFLOW_RUN_ID"], "run123");
    EXPECT_EQ(env["MLFLOW_TRACKING_URI"], "http://127.0.0.1:5000");
    EXPECT_EQ(env["MLFLOW_EXPERIMENT_ID"], "7");
    EXPECT_EQ(env["PYTHONUNBUFFERED"], "1");
    EXPECT_EQ(env.count("PATH"), 1u);
    // The user's Environment is applied last and wins.
    EXPECT_EQ(env["MY_VAR"], "x");
    EXPECT_EQ(env["SM_LOG_LEVEL"], "10");

    json training_env = json::parse(env["SM_TRAINING_ENV"]);
    EXPECT_EQ(training_env["current_host"], ws->hosts[i]);
    EXPECT_EQ(training_env["hosts"], json::array({"algo-1", "algo-2"}));
    EXPECT_EQ(training_env["master_hostname"], "algo-1");
    EXPECT_EQ(training_env["is_master"], i == 0);
    EXPECT_EQ(training_env["job_name"], "wsjob");
    EXPECT_EQ(training_env["num_cpus"], 4);
    EXPECT_EQ(training_env["num_gpus"], 0);
    EXPECT_EQ(training_env["user_entry_point"], "train.py");
    EXPECT_EQ(training_env["module_name"], "train");
    EXPECT_EQ(training_env["hyperparameters"], json::parse(env["SM_HPS"]));
    EXPECT_EQ(training_env["channel_input_dirs"]["train"], env["SM_CHANNEL_TRAIN"]);
    EXPECT_EQ(training_env["input_data_config"], input_data_config);
    EXPECT_EQ(training_env["model_dir"], env["SM_MODEL_DIR"]);
  }
  EXPECT_EQ(EnvMap(ws->processes[0])["SM_CURRENT_HOST"], "algo-1");
  EXPECT_EQ(EnvMap(ws->processes[1])["SM_CURRENT_HOST"], "algo-2");
}

TEST_F(TrainingWorkspaceTest, SubmitDirectoryAsADirectoryAndDefaults) {
  json doc = Doc();
  doc["HyperParameters"]["sagemaker_submit_directory"] = json("file://" + (dir_.path() / "src").string()).dump();
  doc["AlgorithmSpecification"]["TrainingImage"] = "my-registry/custom:1";
  doc["ResourceConfig"] = {{"InstanceType", "ml.c5.2xlarge"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 1}};
  doc["InputDataConfig"] = json::array();
  doc.erase("Environment");
  ctx_.machine_cpus = 2;
  auto ws = Prepare(doc);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_EQ(ws->hosts, (std::vector<std::string>{"algo-1"}));
  const fs::path root = job_dir() / "algo-1";
  EXPECT_EQ(FilesUnder(root / "code"), (std::set<std::string>{"train.py", "run.sh", "util/helper.py"}));
  EXPECT_TRUE(fs::is_empty(root / "input/data"));
  const auto& spec = ws->processes[0];
  EXPECT_EQ(spec.argv.at(0), "/opt/default/bin/python");  // no runtime claims the image
  auto env = EnvMap(spec);
  EXPECT_EQ(env["SM_CHANNELS"], "[]");
  EXPECT_EQ(env["SM_NUM_CPUS"], "2");  // capped at the machine
  EXPECT_EQ(env["SM_HOSTS"], "[\"algo-1\"]");
  EXPECT_EQ(env["SM_LOG_LEVEL"], "20");
  EXPECT_EQ(json::parse(env["SM_TRAINING_ENV"])["is_master"], true);
}

TEST_F(TrainingWorkspaceTest, SandboxedPathsAreUnderOptMl) {
  json doc = Doc();
  doc["EnableNetworkIsolation"] = true;
  ctx_.sandbox = true;
  auto ws = Prepare(doc);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  for (size_t i = 0; i < 2; ++i) {
    const auto& spec = ws->processes[i];
    const fs::path root = job_dir() / ws->hosts[i];
    EXPECT_TRUE(spec.sandbox.enabled);
    EXPECT_TRUE(spec.sandbox.isolate_network);
    EXPECT_EQ(spec.sandbox.ml_root, root);  // the host directory, bound at /opt/ml
    EXPECT_EQ(spec.sandbox.hidden, (std::vector<fs::path>{dir_.path() / "data"}));
    EXPECT_EQ(spec.sandbox.readable, (std::vector<fs::path>{locations_.object_root() / "bkt/data/val/v.csv"}));
    EXPECT_EQ(spec.cwd, fs::path("/opt/ml/code"));
    auto env = EnvMap(spec);
    EXPECT_EQ(env["SM_CHANNEL_TRAIN"], "/opt/ml/input/data/train");
    EXPECT_EQ(env["SM_MODEL_DIR"], "/opt/ml/model");
    EXPECT_EQ(env["SM_INPUT_CONFIG_DIR"], "/opt/ml/input/config");
    EXPECT_EQ(json::parse(env["SM_TRAINING_ENV"])["output_data_dir"], "/opt/ml/output/data");
    // The files themselves are still staged on the host side.
    EXPECT_TRUE(fs::exists(root / "code/train.py"));
  }
}

TEST_F(TrainingWorkspaceTest, ContainerEntrypointAndArguments) {
  json doc = Doc();
  doc["AlgorithmSpecification"]["ContainerEntrypoint"] = {"/bin/bash", "-c"};
  doc["AlgorithmSpecification"]["ContainerArguments"] = {"echo hi", "x"};
  auto ws = Prepare(doc);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_EQ(ws->processes[0].argv, (std::vector<std::string>{"/bin/bash", "-c", "echo hi", "x"}));
  EXPECT_EQ(EnvMap(ws->processes[0])["SM_USER_ARGS"], "[\"echo hi\",\"x\"]");
}

TEST_F(TrainingWorkspaceTest, ShellAndExecutableEntryPoints) {
  json doc = Doc();
  doc["HyperParameters"] = {{"sagemaker_program", "\"run.sh\""},
                            {"sagemaker_submit_directory", "\"s3://bkt/code/sourcedir.tar.gz\""}};
  doc["ResourceConfig"]["InstanceCount"] = 1;
  auto ws = Prepare(doc);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_EQ(ws->processes[0].argv, (std::vector<std::string>{"/bin/sh", "run.sh"}));
  EXPECT_EQ(EnvMap(ws->processes[0])["SM_MODULE_NAME"], "run.sh");

  doc["HyperParameters"]["sagemaker_program"] = "\"util/helper.py\"";
  ws = Prepare(doc);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_EQ(ws->processes[0].argv, (std::vector<std::string>{"/opt/torch/bin/python", "util/helper.py"}));
}

TEST_F(TrainingWorkspaceTest, MissingEntryPointIsInvalidArgument) {
  json doc = Doc();
  doc["HyperParameters"]["sagemaker_program"] = "\"missing.py\"";
  auto ws = Prepare(doc);
  EXPECT_EQ(ws.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ws.status().message().find("missing.py"), std::string::npos) << ws.status().message();

  doc = Doc();
  doc["HyperParameters"].erase("sagemaker_submit_directory");
  EXPECT_EQ(Prepare(doc).status().code(), StatusCode::kInvalidArgument);  // no code at all
}

TEST_F(TrainingWorkspaceTest, MissingDataOrCodeIsInvalidArgument) {
  json doc = Doc();
  doc["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = "s3://bkt/data/nothing-here";
  auto ws = Prepare(doc);
  EXPECT_EQ(ws.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ws.status().message().find("No data found"), std::string::npos) << ws.status().message();

  doc = Doc();
  doc["HyperParameters"]["sagemaker_submit_directory"] = "\"s3://bkt/code/missing.tar.gz\"";
  EXPECT_EQ(Prepare(doc).status().code(), StatusCode::kInvalidArgument);

  WriteFile(locations_.object_root() / "bkt/code/not-a-tar.tar.gz", "garbage");
  doc["HyperParameters"]["sagemaker_submit_directory"] = "\"s3://bkt/code/not-a-tar.tar.gz\"";
  EXPECT_EQ(Prepare(doc).status().code(), StatusCode::kInvalidArgument);
}

class CheckTrainingRequestTest : public TrainingWorkspaceTest {
 protected:
  Status Check(const json& request) { return CheckTrainingRequest(request, locations_); }
};

TEST_F(CheckTrainingRequestTest, AcceptsARealisticRequest) {
  json request = Doc();
  request.erase("_loam");
  request["CheckpointConfig"] = {{"S3Uri", "s3://bkt/checkpoints"}};
  Status s = Check(request);
  EXPECT_TRUE(s.ok()) << s.ToString();
  // Data need not exist yet when the job is created.
  request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = "s3://bkt/later";
  EXPECT_TRUE(Check(request).ok());
}

TEST_F(CheckTrainingRequestTest, RejectsAlgorithmNameAndMissingImage) {
  json r = Doc();
  r["AlgorithmSpecification"]["AlgorithmName"] = "xgboost";
  Status s = Check(r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("AlgorithmName"), std::string::npos);
  r = Doc();
  r["AlgorithmSpecification"].erase("TrainingImage");
  EXPECT_EQ(Check(r).code(), StatusCode::kInvalidArgument);
}

TEST_F(CheckTrainingRequestTest, NeedsAnEntryPointOrContainerEntrypoint) {
  json r = Doc();
  r["HyperParameters"].erase("sagemaker_program");
  Status s = Check(r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sagemaker_program"), std::string::npos);
  r.erase("HyperParameters");
  EXPECT_EQ(Check(r).code(), StatusCode::kInvalidArgument);
  r["AlgorithmSpecification"]["ContainerEntrypoint"] = {"python3", "-m", "mypkg"};
  EXPECT_TRUE(Check(r).ok());
}

TEST_F(CheckTrainingRequestTest, RejectsPipeMode) {
  json r = Doc();
  r["AlgorithmSpecification"]["TrainingInputMode"] = "Pipe";
  EXPECT_EQ(Check(r).code(), StatusCode::kInvalidArgument);
  r = Doc();
  r["InputDataConfig"][0]["InputMode"] = "Pipe";
  Status s = Check(r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("train"), std::string::npos);
}

TEST_F(CheckTrainingRequestTest, RejectsDuplicateChannelNames) {
  json r = Doc();
  r["InputDataConfig"][1]["ChannelName"] = "train";
  Status s = Check(r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("unique"), std::string::npos) << s.message();
}

TEST_F(CheckTrainingRequestTest, RejectsManifestsAndOtherDataSources) {
  for (const char* type : {"ManifestFile", "AugmentedManifestFile"}) {
    json r = Doc();
    r["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"] = type;
    EXPECT_EQ(Check(r).code(), StatusCode::kInvalidArgument) << type;
  }
  json r = Doc();
  r["InputDataConfig"][0]["DataSource"] = {
      {"FileSystemDataSource", {{"FileSystemId", "fs-1"}, {"FileSystemType", "EFS"}, {"DirectoryPath", "/x"},
                                {"FileSystemAccessMode", "ro"}}}};
  EXPECT_EQ(Check(r).code(), StatusCode::kInvalidArgument);
}

TEST_F(CheckTrainingRequestTest, RejectsBadUris) {
  json r = Doc();
  r["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = "https://example.com/data";
  EXPECT_EQ(Check(r).code(), StatusCode::kInvalidArgument);
  r = Doc();
  r["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"] = "s3://bkt/../escape";
  EXPECT_EQ(Check(r).code(), StatusCode::kInvalidArgument);
  r = Doc();
  r["OutputDataConfig"]["S3OutputPath"] = "relative/output";
  EXPECT_EQ(Check(r).code(), StatusCode::kInvalidArgument);
  r = Doc();
  r["CheckpointConfig"] = {{"S3Uri", "gs://bkt/ckpt"}};
  EXPECT_EQ(Check(r).code(), StatusCode::kInvalidArgument);
  r = Doc();
  r["OutputDataConfig"]["S3OutputPath"] = "file:///srv/outputs";
  EXPECT_TRUE(Check(r).ok());
}

}  // namespace
}  // namespace loam::jobs
