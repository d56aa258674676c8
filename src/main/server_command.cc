#include "main/server_command.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "api/mlflow/routes.h"
#include "api/cloudwatch/logs_routes.h"
#include "api/sagemaker/sagemaker_routes.h"
#include "api/ops/ops.h"
#include "api/s3/s3_routes.h"
#include "api/inference_v2/v2_routes.h"
#include "api/sagemaker_runtime/runtime_routes.h"
#include "api/stepfunctions/sfn_routes.h"
#include "api/sts/sts_routes.h"
#include "common/account.h"
#include "common/log.h"
#include "common/version.h"
#include "main/bucket_store_factory.h"
#include "main/hosting_services.h"
#include "main/job_services.h"
#include "store/sqlite/sqlite_history_store.h"
#include "store/sqlite/sqlite_job_store.h"
#include "http/server.h"
#include "objects/local_object_store.h"
#include "store/sqlite/sqlite_tracking_store.h"
#include "tracking/tracking_service.h"
#include "workflows/sagemaker_tasks.h"
#include "workflows/workflow_service.h"

namespace loam {

namespace {

struct ServerFlags {
  std::string host = "127.0.0.1";
  int port = 7070;
  std::string data_dir = "./loam-data";
  int threads = 0;
  std::string durability = "normal";
  std::string log_level = "info";
  JobFlags jobs;
  HostingFlags hosting;
  ObjectStoreFlags objects;
};

int RunServer(const ServerFlags& flags) {
  log::Init(log::ParseLevel(flags.log_level));
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path data_dir = fs::absolute(flags.data_dir);
  fs::create_directories(data_dir, ec);
  if (ec) {
    log::Error("startup.data_dir", {{"path", data_dir.string()}, {"error", ec.message()}});
    return 1;
  }

  // One server per data directory: a second would clear the first one's spooled uploads.
  // The lock is released by the kernel when the process ends, however it ends.
  int lock_fd = ::open((data_dir / "loam.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    log::Error("startup.data_dir_locked",
               {{"path", data_dir.string()}, {"error", "another Loam server is using this data directory"}});
    return 1;
  }

  sqlite::SqliteStoreOptions store_options;
  store_options.path = data_dir / "loam.db";
  store_options.durability = flags.durability == "full" ? sqlite::Durability::kFull : sqlite::Durability::kNormal;
  auto store = sqlite::SqliteTrackingStore::Open(store_options);
  if (!store.ok()) {
    log::Error("startup.store", {{"error", store.status().ToString()}});
    return 1;
  }
  auto job_store = sqlite::SqliteJobStore::Open(store_options.path, store_options.durability);
  if (!job_store.ok()) {
    log::Error("startup.store", {{"error", job_store.status().ToString()}});
    return 1;
  }
  auto history_store = sqlite::SqliteHistoryStore::Open(store_options.path, store_options.durability);
  if (!history_store.ok()) {
    log::Error("startup.store", {{"error", history_store.status().ToString()}});
    return 1;
  }
  auto artifacts = std::make_shared<objects::LocalObjectStore>(data_dir / "artifacts");
  auto tracking = std::make_shared<tracking::TrackingService>(
      std::shared_ptr<tracking::TrackingStore>(std::move(store).value()), artifacts);

  auto metrics = std::make_shared<http::HttpMetrics>();
  auto router = std::make_shared<http::Router>();
  api::ops::AddRoutes(*router, metrics, kLoamVersion);
  api::mlflow::AddRoutes(*router, tracking);

  http::ServerOptions options;
  options.host = flags.host;
  options.port = static_cast<uint16_t>(flags.port);
  options.threads = flags.threads > 0 ? flags.threads : std::max(4, static_cast<int>(std::thread::hardware_concurrency()) * 2);
  options.upload_dir = data_dir / "tmp";
  fs::remove_all(options.upload_dir, ec);  // spooled uploads and downloads of an earlier process
  // One object store behind the S3 API and every s3:// URI of every job.
  auto bucket_store = MakeBucketStore(flags.objects, data_dir);
  if (!bucket_store.ok()) {
    log::Error("startup.object_store", {{"error", bucket_store.status().ToString()}});
    return 1;
  }
  api::s3::AddRoutes(*router, *bucket_store);
  api::sts::AddRoutes(*router, {.account = std::string(kAccountId)});
  http::Server server(options, router, metrics);
  if (Status s = server.Listen(); !s.ok()) {
    log::Error("startup.listen", {{"error", s.ToString()}});
    return 1;
  }
  // Jobs hand MLFLOW_TRACKING_URI to their processes, so they need the bound port.
  std::shared_ptr<jobs::JobStore> jobs_store(std::move(job_store).value());
  std::string job_host = flags.host == "0.0.0.0" || flags.host == "::" ? "127.0.0.1" : flags.host;
  auto job_services = MakeJobServices(flags.jobs, data_dir, fmt::format("http://{}:{}", job_host, server.port()),
                                      jobs_store, tracking, *bucket_store);
  if (!job_services.ok()) {
    log::Error("startup.jobs", {{"error", job_services.status().ToString()}});
    return 1;
  }
  auto hosting = MakeHostingServices(server.loops(), flags.hosting, flags.jobs, data_dir, fmt::format("http://{}:{}", job_host, server.port()),
                                     jobs_store, *job_services);
  if (!hosting.ok()) {
    log::Error("startup.hosting", {{"error", hosting.status().ToString()}});
    return 1;
  }
  const api::sagemaker::SageMakerServices sagemaker{job_services->training, job_services->processing, job_services->tags,
                                                   job_services->tuning,   hosting->definitions,       hosting->endpoints,
                                                   hosting->transforms};
  api::sagemaker::AddRoutes(*router, sagemaker);
  // Step Functions' SageMaker tasks call the same operations in process.
  auto workflows = std::make_shared<workflows::WorkflowService>(
      jobs_store, std::shared_ptr<workflows::HistoryStore>(std::move(history_store).value()),
      std::make_shared<workflows::SageMakerTasks>(api::sagemaker::MakeInProcessCall(sagemaker), api::sagemaker::ServesOperation),
      workflows::WorkflowOptions{.region = flags.jobs.region, .account = std::string(kAccountId)});
  api::stepfunctions::AddRoutes(*router, workflows);
  api::sagemaker_runtime::AddRoutes(*router, hosting->invoker, {.region = flags.jobs.region, .account = std::string(kAccountId)});
  api::inference_v2::AddRoutes(*router, hosting->invoker);
  api::cloudwatch::AddLogsRoutes(*router, job_services->log_streams);
  if (Status s = job_services->Recover(); !s.ok()) {
    log::Error("startup.recover", {{"error", s.ToString()}});
    return 1;
  }
  if (Status s = hosting->Recover(); !s.ok()) {
    log::Error("startup.recover", {{"error", s.ToString()}});
    return 1;
  }
  if (Status s = workflows->Recover(); !s.ok()) {
    log::Error("startup.recover", {{"error", s.ToString()}});
    return 1;
  }
  log::Info("server.listening", {{"host", flags.host},
                                 {"port", server.port()},
                                 {"data_dir", data_dir.string()},
                                 {"threads", options.threads},
                                 {"version", kLoamVersion}});
  server.Run(/*install_signal_handlers=*/true);
  workflows->Shutdown();     // running executions pause; the next start resumes them from their history
  hosting->Shutdown();       // endpoint workers stop; the next start redeploys their endpoints
  job_services->Shutdown();  // running jobs keep running; the next start re-attaches them
  log::Info("server.stopped", {});
  return 0;
}

}  // namespace

void AddServerCommand(CLI::App& app) {
  auto flags = std::make_shared<ServerFlags>();
  CLI::App* cmd = app.add_subcommand("server", "Run the Loam server (MLflow tracking API, health, metrics)");
  cmd->add_option("--host", flags->host, "Address to bind (default 127.0.0.1)");
  cmd->add_option("--port", flags->port, "Port to listen on; 0 picks a free one (default 7070)")->check(CLI::Range(0, 65535));
  cmd->add_option("--data-dir", flags->data_dir, "Directory holding loam.db and artifacts/ (default ./loam-data)");
  cmd->add_option("--threads", flags->threads, "I/O threads (default 2 x cores, at least 4)");
  cmd->add_option("--durability", flags->durability,
                  "normal: a commit survives a crash of the process; full: also power loss (fsync per commit)")
      ->check(CLI::IsMember({"normal", "full"}));
  cmd->add_option("--log-level", flags->log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cmd->add_option("--python", flags->jobs.python,
                  "Interpreter of the default job runtime (every image maps to it unless --runtimes says otherwise)");
  cmd->add_option("--runtimes", flags->jobs.runtimes_file, "YAML file mapping image URI patterns to runtimes");
  cmd->add_option("--job-cpus", flags->jobs.job_cpus, "CPUs the job scheduler may hand out (default: all)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--job-memory-mb", flags->jobs.job_memory_mb, "Memory the job scheduler may hand out (default: all)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sandbox", flags->jobs.sandbox,
                  "auto: bubblewrap when usable; bwrap: require it; none: run jobs in their directory")
      ->check(CLI::IsMember({"auto", "bwrap", "none"}));
  cmd->add_option("--stop-grace", flags->jobs.stop_grace_seconds, "Seconds between SIGTERM and SIGKILL when stopping a job")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-active-jobs", flags->jobs.max_active_jobs,
                  "Training jobs queued or running at once; more are refused with ResourceLimitExceeded")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--inference-toolkit", flags->hosting.toolkit_dir,
                  "Directory holding the endpoint worker toolkit loam_inference (default: the source tree's python/)");
  cmd->add_option("--endpoint-startup-timeout", flags->hosting.startup_timeout_seconds,
                  "Seconds an endpoint's workers have to answer /ping before the endpoint fails (default 300)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--capture-flush-seconds", flags->hosting.capture_flush_seconds,
                  "Seconds between writes of an endpoint's captured data to its DestinationS3Uri (default 5)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--invocation-timeout", flags->hosting.invocation_timeout_seconds,
                  "Seconds a model has to answer one invocation (default 60, as SageMaker)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--region", flags->jobs.region, "AWS region in ARNs (default us-east-1)");
  cmd->add_option("--object-store", flags->objects.kind,
                  "Where objects live (S3 API and s3:// URIs): local files under DATA_DIR/objects, or an external "
                  "S3-compatible store (default local)")
      ->check(CLI::IsMember({"local", "s3"}));
  cmd->add_option("--s3-endpoint", flags->objects.s3_endpoint,
                  "URL of the external S3 store, e.g. http://127.0.0.1:9000 (with --object-store s3)");
  cmd->add_option("--s3-region", flags->objects.s3_region, "Region the external S3 store signs for (default us-east-1)");
  cmd->add_option("--s3-addressing", flags->objects.s3_addressing,
                  "path: http://host/bucket/key; virtual: http://bucket.host/key (default path)")
      ->check(CLI::IsMember({"path", "virtual"}));
  cmd->add_option("--s3-access-key-id", flags->objects.s3_access_key_id,
                  "Access key for the external S3 store (default: $AWS_ACCESS_KEY_ID)");
  cmd->add_option("--s3-secret-access-key", flags->objects.s3_secret_access_key,
                  "Secret key for the external S3 store (default: $AWS_SECRET_ACCESS_KEY)");
  cmd->callback([flags] { std::exit(RunServer(*flags)); });
}

}  // namespace loam
