#include "jobs/tuning_request.h"

#include <gtest/gtest.h>

namespace loam::jobs {
namespace {

using nlohmann::json;

json Definition() {
  return {{"AlgorithmSpecification",
           {{"TrainingImage", "sklearn"},
            {"TrainingInputMode", "File"},
            {"MetricDefinitions", json::array({{{"Name", "val_loss"}, {"Regex", "val_loss=([0-9.]+)"}}})}}},
          {"RoleArn", "arn:aws:iam::123456789012:role/r"},
          {"OutputDataConfig", {{"S3OutputPath", "file:///tmp/out"}}},
          {"ResourceConfig", {{"InstanceType", "local"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 1}}},
          {"StoppingCondition", {{"MaxRuntimeInSeconds", 60}}},
          {"StaticHyperParameters", {{"sagemaker_program", "\"train.py\""}, {"sleep", "0.1"}}}};
}

json Request() {
  return {{"HyperParameterTuningJobName", "tune-1"},
          {"HyperParameterTuningJobConfig",
           {{"Strategy", "Random"},
            {"HyperParameterTuningJobObjective", {{"Type", "Minimize"}, {"MetricName", "val_loss"}}},
            {"ResourceLimits", {{"MaxNumberOfTrainingJobs", 15}, {"MaxParallelTrainingJobs", 5}}},
            {"ParameterRanges",
             {{"ContinuousParameterRanges",
               json::array({{{"Name", "learning_rate"}, {"MinValue", "0.0001"}, {"MaxValue", "1"},
                             {"ScalingType", "Logarithmic"}}})},
              {"IntegerParameterRanges", json::array({{{"Name", "epochs"}, {"MinValue", "2"}, {"MaxValue", "8"}}})},
              {"CategoricalParameterRanges",
               json::array({{{"Name", "batch_size"}, {"Values", json::array({"16", "32", "64"})}}})}}}}},
          {"TrainingJobDefinition", Definition()}};
}

std::string ErrorOf(const json& request) {
  auto spec = ParseTuningSpec(request);
  EXPECT_FALSE(spec.ok());
  return spec.ok() ? "" : spec.status().message();
}

TEST(TuningRequest, ParsesTheReferenceSearch) {
  auto spec = ParseTuningSpec(Request());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->strategy, "Random");
  EXPECT_EQ(spec->max_jobs, 15);
  EXPECT_EQ(spec->max_parallel, 5);
  EXPECT_FALSE(spec->early_stopping);
  ASSERT_EQ(spec->definitions.size(), 1u);
  const auto& def = spec->definitions[0];
  EXPECT_EQ(def.metric, "val_loss");
  EXPECT_EQ(def.space.dims(), 3);
  EXPECT_EQ(def.space.EffectiveScaling(0), tuning::ScalingType::kLogarithmic);
  EXPECT_EQ(def.static_hps.at("sleep"), "0.1");
  EXPECT_EQ(spec->objective, tuning::ObjectiveType::kMinimize);
}

TEST(TuningRequest, SeedDefaultsToTheNameAndFollowsRandomSeed) {
  auto a = ParseTuningSpec(Request());
  auto b = ParseTuningSpec(Request());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->seed, b->seed);
  // The name, not a constant: another job's name gives another seed.
  json other = Request();
  other["HyperParameterTuningJobName"] = "tune-2";
  auto c = ParseTuningSpec(other);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(c->seed, a->seed);
  json r = Request();
  r["HyperParameterTuningJobConfig"]["RandomSeed"] = 42;
  EXPECT_EQ(ParseTuningSpec(r)->seed, 42u);
}

TEST(TuningRequest, CompletionCriteriaAndEarlyStopping) {
  json r = Request();
  r["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] = "Auto";
  r["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxRuntimeInSeconds"] = 300;
  r["HyperParameterTuningJobConfig"]["TuningJobCompletionCriteria"] = {
      {"TargetObjectiveMetricValue", 0.5},
      {"BestObjectiveNotImproving", {{"MaxNumberOfTrainingJobsNotImproving", 4}}},
      {"ConvergenceDetected", {{"CompleteOnConvergence", "Enabled"}}}};
  auto spec = ParseTuningSpec(r);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_TRUE(spec->early_stopping);
  EXPECT_EQ(*spec->max_runtime_seconds, 300);
  EXPECT_DOUBLE_EQ(*spec->criteria.target, 0.5);
  EXPECT_EQ(*spec->criteria.max_not_improving, 4);
  EXPECT_TRUE(spec->criteria.complete_on_convergence);
}

TEST(TuningRequest, RejectsInvalidRanges) {
  json r = Request();
  auto& cont = r["HyperParameterTuningJobConfig"]["ParameterRanges"]["ContinuousParameterRanges"][0];
  cont["MinValue"] = "1";
  cont["MaxValue"] = "0.5";
  EXPECT_NE(ErrorOf(r).find("must be less than its MaxValue"), std::string::npos);
  cont["MinValue"] = "0";
  cont["MaxValue"] = "1";
  EXPECT_NE(ErrorOf(r).find("Logarithmic scaling, which requires a MinValue greater than 0"), std::string::npos);
  cont["MinValue"] = "abc";
  EXPECT_NE(ErrorOf(r).find("must be numbers"), std::string::npos);
  r = Request();
  r["HyperParameterTuningJobConfig"]["ParameterRanges"]["IntegerParameterRanges"][0]["MinValue"] = "2.5";
  EXPECT_NE(ErrorOf(r).find("must be integers"), std::string::npos);
  r = Request();
  r["HyperParameterTuningJobConfig"]["ParameterRanges"]["CategoricalParameterRanges"][0]["Values"] = {"a", "a"};
  EXPECT_NE(ErrorOf(r).find("distinct"), std::string::npos);
}

TEST(TuningRequest, RejectsGridWithContinuousRanges) {
  json r = Request();
  r["HyperParameterTuningJobConfig"]["Strategy"] = "Grid";
  EXPECT_NE(ErrorOf(r).find("Grid strategy does not support ContinuousParameterRanges"), std::string::npos);
}

TEST(TuningRequest, HyperbandResources) {
  json r = Request();
  auto& config = r["HyperParameterTuningJobConfig"];
  config["Strategy"] = "Hyperband";
  EXPECT_NE(ErrorOf(r).find("needs StrategyConfig.HyperbandStrategyConfig.MaxResource"), std::string::npos);
  config["StrategyConfig"] = {{"HyperbandStrategyConfig", {{"MinResource", 2}, {"MaxResource", 27}}}};
  auto spec = ParseTuningSpec(r);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->hyperband->min_resource, 2);
  EXPECT_EQ(spec->hyperband->max_resource, 27);
  config["StrategyConfig"]["HyperbandStrategyConfig"]["MinResource"] = 30;
  EXPECT_NE(ErrorOf(r).find("MinResource <= MaxResource"), std::string::npos);
  config.erase("StrategyConfig");
  config["ParameterRanges"].erase("IntegerParameterRanges");
  r["TrainingJobDefinition"]["StaticHyperParameters"]["epochs"] = "9";  // MaxResource from a static epochs
  spec = ParseTuningSpec(r);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->hyperband->min_resource, 1);
  EXPECT_EQ(spec->hyperband->max_resource, 9);
  config["TrainingJobEarlyStoppingType"] = "Auto";
  EXPECT_NE(ErrorOf(r).find("must be Off with the Hyperband strategy"), std::string::npos);
  config["Strategy"] = "Random";
  config["TrainingJobEarlyStoppingType"] = "Off";
  config["StrategyConfig"] = json::object();
  EXPECT_NE(ErrorOf(r).find("StrategyConfig applies only to the Hyperband strategy"), std::string::npos);
}

TEST(TuningRequest, GridWithoutMaxJobsRunsTheWholeGrid) {
  json r = Request();
  r["HyperParameterTuningJobConfig"]["Strategy"] = "Grid";
  r["HyperParameterTuningJobConfig"]["ParameterRanges"].erase("ContinuousParameterRanges");
  r["HyperParameterTuningJobConfig"]["ResourceLimits"].erase("MaxNumberOfTrainingJobs");
  auto spec = ParseTuningSpec(r);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->max_jobs, 7 * 3);
  r["HyperParameterTuningJobConfig"]["Strategy"] = "Random";
  EXPECT_NE(ErrorOf(r).find("MaxNumberOfTrainingJobs is required"), std::string::npos);
}

TEST(TuningRequest, RejectsStaticAndTunedHyperparameter) {
  json r = Request();
  r["TrainingJobDefinition"]["StaticHyperParameters"]["epochs"] = "3";
  EXPECT_NE(ErrorOf(r).find("'epochs' is both a static hyperparameter and a tunable"), std::string::npos);
}

TEST(TuningRequest, ObjectiveMetricMustBeDefined) {
  json r = Request();
  r["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["MetricName"] = "accuracy";
  EXPECT_NE(ErrorOf(r).find("objective metric 'accuracy' is not defined in the MetricDefinitions"),
            std::string::npos);
}

TEST(TuningRequest, DefinitionsExclusiveAndSeveralDefinitions) {
  json r = Request();
  r.erase("TrainingJobDefinition");
  EXPECT_NE(ErrorOf(r).find("Either TrainingJobDefinition or TrainingJobDefinitions"), std::string::npos);
  json ranges = r["HyperParameterTuningJobConfig"]["ParameterRanges"];
  r["HyperParameterTuningJobConfig"].erase("ParameterRanges");
  json a = Definition(), b = Definition();
  a["DefinitionName"] = "a";
  b["DefinitionName"] = "b";
  a["HyperParameterRanges"] = ranges;
  b["HyperParameterRanges"] = {{"IntegerParameterRanges", ranges["IntegerParameterRanges"]}};
  a["TuningObjective"] = b["TuningObjective"] = {{"Type", "Minimize"}, {"MetricName", "val_loss"}};
  r["TrainingJobDefinitions"] = {a, b};
  auto spec = ParseTuningSpec(r);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_EQ(spec->definitions.size(), 2u);
  EXPECT_EQ(spec->definitions[1].name, "b");
  EXPECT_EQ(spec->definitions[1].space.dims(), 1);
  r["TrainingJobDefinitions"][1]["TuningObjective"]["Type"] = "Maximize";
  EXPECT_NE(ErrorOf(r).find("same Type"), std::string::npos);
  r["TrainingJobDefinitions"][1]["DefinitionName"] = "a";
  EXPECT_NE(ErrorOf(r).find("more than one"), std::string::npos);
}

TEST(TuningRequest, WarmStartParents) {
  json r = Request();
  r["WarmStartConfig"] = {{"WarmStartType", "IdenticalDataAndAlgorithm"},
                          {"ParentHyperParameterTuningJobs", {{{"HyperParameterTuningJobName", "parent-1"}}}}};
  auto spec = ParseTuningSpec(r);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->warm_start_parents, std::vector<std::string>{"parent-1"});
  EXPECT_EQ(spec->warm_start_type, "IdenticalDataAndAlgorithm");
  r["WarmStartConfig"]["ParentHyperParameterTuningJobs"][0]["HyperParameterTuningJobName"] = "tune-1";
  EXPECT_NE(ErrorOf(r).find("itself"), std::string::npos);
}

TEST(TuningRequest, TrialNamesFollowSageMaker) {
  EXPECT_EQ(TrialJobName("tune-1", 1, "0a1b2c3d"), "tune-1-001-0a1b2c3d");
  EXPECT_EQ(TrialJobName("tune-1", 42, "ffffffff"), "tune-1-042-ffffffff");
  EXPECT_EQ(TrialJobName("tune-1", 1234, "00000000"), "tune-1-1234-00000000");
}

TEST(TuningRequest, TrialRequestMergesStaticTunedAndObjective) {
  auto spec = ParseTuningSpec(Request());
  ASSERT_TRUE(spec.ok());
  auto r = TrialTrainingRequest(spec->definitions[0], "tune-1-001-0a1b2c3d",
                                {{"learning_rate", "0.01"}, {"epochs", "3"}, {"batch_size", "32"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["TrainingJobName"], "tune-1-001-0a1b2c3d");
  EXPECT_EQ((*r)["HyperParameters"],
            json({{"sagemaker_program", "\"train.py\""},
                  {"sleep", "0.1"},
                  {"learning_rate", "0.01"},
                  {"epochs", "3"},
                  {"batch_size", "32"},
                  {"_tuning_objective_metric", "val_loss"}}));
  EXPECT_FALSE(r->contains("StaticHyperParameters"));
  EXPECT_EQ((*r)["ResourceConfig"]["InstanceType"], "local");
}

TEST(TuningRequest, ResourceConfigFromHyperParameterTuningResourceConfig) {
  json r = Request();
  r["TrainingJobDefinition"].erase("ResourceConfig");
  EXPECT_NE(ErrorOf(r).find("needs ResourceConfig or HyperParameterTuningResourceConfig"), std::string::npos);
  r["TrainingJobDefinition"]["HyperParameterTuningResourceConfig"] = {
      {"InstanceConfigs", {{{"InstanceType", "ml.m5.xlarge"}, {"InstanceCount", 2}, {"VolumeSizeInGB", 5}}}}};
  auto spec = ParseTuningSpec(r);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto trial = TrialTrainingRequest(spec->definitions[0], "tune-1-001-00000000", {});
  ASSERT_TRUE(trial.ok());
  EXPECT_EQ((*trial)["ResourceConfig"],
            json({{"InstanceType", "ml.m5.xlarge"}, {"InstanceCount", 2}, {"VolumeSizeInGB", 5}}));
  EXPECT_FALSE(trial->contains("HyperParameterTuningResourceConfig"));
}

TEST(TuningRequest, ConfigurationRoundTripsThroughHyperParameters) {
  auto spec = ParseTuningSpec(Request());
  ASSERT_TRUE(spec.ok());
  const auto& space = spec->definitions[0].space;
  auto config = space.FromUnit({0.3, 0.7, 0.9});
  ASSERT_TRUE(config.ok());
  auto back = ConfigurationFromHyperParameters(space, space.ToHyperParameters(*config));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(tuning::ConfigurationKey(*back), tuning::ConfigurationKey(*config));
  EXPECT_FALSE(ConfigurationFromHyperParameters(space, {{"learning_rate", "x"}}).has_value());
}

}  // namespace
}  // namespace loam::jobs
