// Runtime registry: image patterns to interpreters, from a YAML file.
#include "jobs/runtimes.h"

#include <gtest/gtest.h>

#include "jobs_test_util.h"
#include "test_util.h"

namespace loam::jobs {
namespace {

using loam::testing::WriteFile;

TEST(RuntimeRegistryTest, EveryImageResolvesToTheDefault) {
  RuntimeRegistry registry("/usr/bin/python3");
  const Runtime& r = registry.Resolve("123456789012.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1");
  EXPECT_EQ(r.name, "default");
  EXPECT_EQ(r.python, "/usr/bin/python3");
  EXPECT_EQ(registry.Resolve("").python, "/usr/bin/python3");
  EXPECT_TRUE(registry.runtimes().empty());
}

TEST(RuntimeRegistryTest, YamlPatternsAheadOfTheDefaultFirstMatchWins) {
  loam::testing::ScratchDir dir;
  WriteFile(dir.path() / "runtimes.yaml", R"(
runtimes:
  - name: torch
    images: ["*pytorch-training*", "*/torch:*"]
    python: /opt/venvs/torch/bin/python
  - name: sklearn
    images:
      - "*sklearn*"
      - "*pytorch*"
    python: /opt/venvs/sk/bin/python
)");
  RuntimeRegistry registry("/usr/bin/python3");
  Status s = registry.LoadFile(dir.path() / "runtimes.yaml");
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(registry.runtimes().size(), 2u);
  EXPECT_EQ(registry.runtimes()[1].image_patterns, (std::vector<std::string>{"*sklearn*", "*pytorch*"}));

  EXPECT_EQ(registry.Resolve("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310").name,
            "torch");
  EXPECT_EQ(registry.Resolve("registry.local/team/torch:1.0").python, "/opt/venvs/torch/bin/python");
  EXPECT_EQ(registry.Resolve("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1").name,
            "default");  // "scikit-learn" is not "sklearn"
  EXPECT_EQ(registry.Resolve("my/sklearn-image:latest").name, "sklearn");
  EXPECT_EQ(registry.Resolve("my/pytorch-inference:2").name, "sklearn");  // only the second runtime claims it
  EXPECT_EQ(registry.Resolve("tensorflow:2").name, "default");

  registry.Add({"catch-all", {"*"}, "/opt/other/python"});
  EXPECT_EQ(registry.Resolve("tensorflow:2").name, "catch-all");
  EXPECT_EQ(registry.Resolve("a/torch:1").name, "torch");
}

TEST(RuntimeRegistryTest, BadYamlIsInvalidArgument) {
  loam::testing::ScratchDir dir;
  WriteFile(dir.path() / "bad.yaml", "runtimes: [ {name: x, images: [\"*\"\n");
  RuntimeRegistry registry("/usr/bin/python3");
  Status s = registry.LoadFile(dir.path() / "bad.yaml");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("bad.yaml"), std::string::npos) << s.message();
}

TEST(RuntimeRegistryTest, IncompleteRuntimeAndMissingFileAreInvalidArgument) {
  loam::testing::ScratchDir dir;
  WriteFile(dir.path() / "nopython.yaml", "runtimes:\n  - name: x\n    images: ['*']\n");
  RuntimeRegistry registry("/usr/bin/python3");
  EXPECT_EQ(registry.LoadFile(dir.path() / "nopython.yaml").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.LoadFile(dir.path() / "missing.yaml").code(), StatusCode::kInvalidArgument);
  WriteFile(dir.path() / "noimages.yaml", "runtimes:\n  - name: x\n    python: /p\n");
  EXPECT_EQ(registry.LoadFile(dir.path() / "noimages.yaml").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loam::jobs
