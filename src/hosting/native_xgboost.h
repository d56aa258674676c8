// The native XGBoost model server: SageMaker's built-in XGBoost models (`xgboost-model`, no
// inference script) answered in the Loam process through libxgboost's C API, with no Python on
// the request path. It reads what the SageMaker XGBoost container reads for inference (text/csv,
// text/libsvm) and answers exactly what Loam's Python worker answers for the same model and
// request (CSV, JSON or JSON Lines; status codes and error bodies alike), so a variant may move
// between the two without a client seeing a difference. A model the library cannot load is
// served by the Python worker instead (the caller decides; Load says why).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace loam::hosting {

class XgboostModel {
 public:
  // InvalidArgument with libxgboost's message when the file is not a model it can read.
  static StatusOr<std::unique_ptr<XgboostModel>> Load(const std::filesystem::path& file);
  ~XgboostModel();
  XgboostModel(const XgboostModel&) = delete;
  XgboostModel& operator=(const XgboostModel&) = delete;

  struct Prediction {
    std::vector<float> values;
    size_t rows = 0;
    size_t columns = 0;  // 0: one value per row (a 1-D answer)
  };
  // `data` is rows x cols, row-major, NaN for missing. Serialised per model (one booster).
  StatusOr<Prediction> Predict(const std::vector<float>& data, size_t rows, size_t cols);
  size_t num_features() const { return num_features_; }
  static std::string LibraryVersion();

 private:
  XgboostModel() = default;
  void* booster_ = nullptr;  // BoosterHandle
  std::string predict_config_;
  size_t num_features_ = 0;
  std::mutex mu_;
};

struct NativeResponse {
  unsigned status = 200;
  std::string content_type;
  std::string body;
};

// One /invocations request, as the Python worker's default handlers would answer it.
// `default_accept` is SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (application/json unless set).
NativeResponse ServeXgboost(XgboostModel& model, const std::string& content_type, const std::string& accept,
                            const std::string& body, const std::string& default_accept);

// A double as Python's repr() writes it ("1.0", "0.1", "1e-05", "1.5e+16", "nan", "inf").
std::string PythonFloatRepr(double value);

}  // namespace loam::hosting
