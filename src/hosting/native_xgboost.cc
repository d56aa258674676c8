#include "hosting/native_xgboost.h"

#include "common/strings.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

namespace loam::hosting {

namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kCsv = "text/csv";
constexpr std::string_view kNpy = "application/x-npy";
constexpr std::string_view kJsonLines = "application/jsonlines";
constexpr std::string_view kXJsonLines = "application/x-jsonlines";
constexpr std::string_view kLibsvm = "text/libsvm";
constexpr std::string_view kXLibsvm = "text/x-libsvm";
// What the Python worker's default output_fn can encode, in its order.
constexpr std::string_view kEncodable[] = {kJson, kCsv, kNpy, kJsonLines, kXJsonLines};
constexpr std::string_view kEchoed[] = {kJson, kCsv, kNpy, kJsonLines, kXJsonLines};

bool OneOf(std::string_view kind, const auto& list) {
  return std::find(std::begin(list), std::end(list), kind) != std::end(list);
}

// Python's repr() of a str: single quotes unless the text holds one and no double quote.
std::string PyRepr(std::string_view s) {
  const char quote = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos ? '"' : '\'';
  std::string out(1, quote);
  for (char c : s) {
    if (c == '\\' || c == quote) out += '\\';
    out += c;
  }
  out += quote;
  return out;
}

NativeResponse Error(unsigned status, std::string_view type, const std::string& message) {
  return {status, "text/plain", fmt::format("{}: {}", type, message)};
}

// The lines of a text body as Python's str.splitlines() sees them (\n, \r\n and \r).
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

// float(text) as Python parses it: surrounding whitespace, a sign, inf / infinity / nan, and
// out-of-range values becoming ±inf or 0 (as strtod, not an error).
std::optional<double> ParseFloat(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (end != text.data() + text.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves the value unset: strtod says which way it went.
    const std::string copy(text);
    return std::strtod(copy.c_str(), nullptr);
  }
  if (ec != std::errc()) return std::nullopt;
  return value;
}

struct Matrix {
  std::vector<float> data;
  size_t rows = 0, cols = 0;
};

// The toolkit's decode_csv: one row per non-blank line, comma separated, every row as wide as
// the first, every field a number.
StatusOr<Matrix> DecodeCsv(std::string_view text) {
  std::vector<std::vector<std::string_view>> rows;
  for (std::string_view line : Lines(text)) {
    if (Trim(line).empty()) continue;
    std::vector<std::string_view> fields;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      fields.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    rows.push_back(std::move(fields));
  }
  if (rows.empty()) return InvalidArgument("CSV payload has no rows");
  Matrix m;
  m.rows = rows.size();
  m.cols = rows[0].size();
  m.data.reserve(m.rows * m.cols);
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != m.cols) {
      return InvalidArgument(fmt::format("CSV row {} has {} fields, row 1 has {}", r + 1, rows[r].size(), m.cols));
    }
    for (size_t c = 0; c < rows[r].size(); ++c) {
      auto v = ParseFloat(rows[r][c]);
      if (!v) return InvalidArgument(fmt::format("CSV row {}, column {}: {} is not a number", r + 1, c + 1, PyRepr(Trim(rows[r][c]))));
      m.data.push_back(static_cast<float>(*v));
    }
  }
  return m;
}

// The toolkit's decode_libsvm: "[label] index:value ..." per line (0-based indices, label
// ignored, "#" starts a comment); absent features are missing.
StatusOr<Matrix> DecodeLibsvm(std::string_view text, size_t num_features, std::string& too_wide) {
  struct Entry {
    size_t row;
    int64_t index;
    double value;
  };
  std::vector<Entry> entries;
  size_t rows = 0;
  int64_t max_index = -1;
  size_t number = 0;
  for (std::string_view line : Lines(text)) {
    ++number;
    line = line.substr(0, line.find('#'));
    std::vector<std::string_view> tokens;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j > i) tokens.push_back(line.substr(i, j - i));
      i = j;
    }
    if (tokens.empty()) continue;
    size_t first = tokens[0].find(':') == std::string_view::npos ? 1 : 0;  // the label
    for (size_t t = first; t < tokens.size(); ++t) {
      const std::string_view token = tokens[t];
      const size_t colon = token.find(':');
      int64_t index = 0;
      std::optional<double> value;
      bool ok = colon != std::string_view::npos;
      if (ok) {
        std::string_view idx = Trim(token.substr(0, colon));
        if (!idx.empty() && idx.front() == '+') idx.remove_prefix(1);
        auto [end, ec] = std::from_chars(idx.data(), idx.data() + idx.size(), index);
        ok = !idx.empty() && ec == std::errc() && end == idx.data() + idx.size();
        value = ParseFloat(token.substr(colon + 1));
        ok = ok && value.has_value();
      }
      if (!ok) return InvalidArgument(fmt::format("LIBSVM line {}: bad feature {}", number, PyRepr(token)));
      entries.push_back({rows, index, *value});
      max_index = std::max(max_index, index);
    }
    ++rows;
  }
  if (rows == 0) return InvalidArgument("LIBSVM payload has no rows");
  for (const Entry& e : entries) {
    if (e.index < 0) return InvalidArgument("LIBSVM feature indices must not be negative");
  }
  // A feature past the model's is what the library refuses (the Python worker's answer, a 500),
  // and is refused before a dense matrix that wide is allocated.
  if (max_index >= static_cast<int64_t>(std::max<size_t>(num_features, 1))) {
    too_wide = fmt::format("Feature shape mismatch, expected: {}, got {}", num_features,
                           max_index == std::numeric_limits<int64_t>::max() ? std::to_string(max_index)
                                                                           : std::to_string(max_index + 1));
    return Matrix{};
  }
  Matrix m;
  m.rows = rows;
  // Rows may omit trailing features: the model's width, unless the request names more.
  m.cols = std::max(num_features, static_cast<size_t>(max_index + 1));
  m.data.assign(m.rows * m.cols, std::numeric_limits<float>::quiet_NaN());
  for (const Entry& e : entries) m.data[e.row * m.cols + static_cast<size_t>(e.index)] = static_cast<float>(e.value);
  return m;
}

// libxgboost's last error: its message, without the stack trace it appends.
std::string LastError() {
  std::string why = XGBGetLastError();
  return why.substr(0, why.find('\n'));
}

std::string JsonNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return PythonFloatRepr(v);
}

// json.dumps of one row: a number, or "[a, b]".
std::string JsonRow(const XgboostModel::Prediction& p, size_t r) {
  if (p.columns == 0) return JsonNumber(p.values[r]);
  std::string out = "[";
  for (size_t c = 0; c < p.columns; ++c) {
    if (c) out += ", ";
    out += JsonNumber(p.values[r * p.columns + c]);
  }
  return out + "]";
}

std::string EncodeJson(const XgboostModel::Prediction& p) {
  std::string out = "[";
  for (size_t r = 0; r < p.rows; ++r) {
    if (r) out += ", ";
    out += JsonRow(p, r);
  }
  return out + "]";
}

std::string EncodeJsonLines(const XgboostModel::Prediction& p) {
  std::string out;
  for (size_t r = 0; r < p.rows; ++r) out += JsonRow(p, r) + "\n";
  return out;
}

std::string EncodeCsv(const XgboostModel::Prediction& p) {
  std::string out;
  const size_t width = p.columns == 0 ? 1 : p.columns;
  for (size_t r = 0; r < p.rows; ++r) {
    for (size_t c = 0; c < width; ++c) {
      if (c) out += ',';
      out += PythonFloatRepr(p.values[r * width + c]);
    }
    out += '\n';
  }
  return out;
}

// numpy.save of the float32 prediction (format 1.0, header padded to 64 bytes).
std::string EncodeNpy(const XgboostModel::Prediction& p) {
  const std::string shape = p.columns == 0 ? fmt::format("({},)", p.rows) : fmt::format("({}, {})", p.rows, p.columns);
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}", shape);
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(reinterpret_cast<const char*>(p.values.data()), p.values.size() * sizeof(float));
  return out;
}

}  // namespace

std::string PythonFloatRepr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, end);  // shortest round trip: "-1.2345e-05"
  const bool negative = s.front() == '-';
  if (negative) s.erase(0, 1);
  const size_t e = s.find('e');
  const int exponent = std::stoi(s.substr(e + 1));
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  std::string out;
  if (exponent >= -4 && exponent < 16) {  // repr's switch to exponent notation
    const int point = exponent + 1;
    if (point <= 0) {
      out = "0." + std::string(static_cast<size_t>(-point), '0') + digits;
    } else if (point >= static_cast<int>(digits.size())) {
      out = digits + std::string(static_cast<size_t>(point) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(point)) + "." + digits.substr(static_cast<size_t>(point));
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  }
  return negative ? "-" + out : out;
}

StatusOr<std::unique_ptr<XgboostModel>> XgboostModel::Load(const std::filesystem::path& file) {
  std::unique_ptr<XgboostModel> model(new XgboostModel());
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(nullptr, 0, &booster) != 0) return Internal(std::string("XGBoosterCreate: ") + XGBGetLastError());
  model->booster_ = booster;
  if (XGBoosterLoadModel(booster, file.c_str()) != 0) {
    return InvalidArgument(fmt::format("libxgboost {} cannot load {}: {}", LibraryVersion(), file.string(), LastError()));
  }
  // One thread per prediction: requests are small, and instances give the parallelism.
  (void)XGBoosterSetParam(booster, "nthread", "1");
  bst_ulong features = 0;
  if (XGBoosterGetNumFeature(booster, &features) != 0) {
    return InvalidArgument(fmt::format("libxgboost cannot read the model's features: {}", XGBGetLastError()));
  }
  model->num_features_ = static_cast<size_t>(features);
  // best_iteration, when training stopped early, limits the trees used (as the Python worker).
  const char* best = nullptr;
  int found = 0;
  int end = 0;
  if (XGBoosterGetAttr(booster, "best_iteration", &best, &found) == 0 && found && best) end = std::atoi(best) + 1;
  model->predict_config_ = fmt::format(
      R"({{"type": 0, "training": false, "iteration_begin": 0, "iteration_end": {}, "strict_shape": false}})", end);
  return model;
}

XgboostModel::~XgboostModel() {
  if (booster_) XGBoosterFree(static_cast<BoosterHandle>(booster_));
}

std::string XgboostModel::LibraryVersion() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return fmt::format("{}.{}.{}", major, minor, patch);
}

StatusOr<XgboostModel::Prediction> XgboostModel::Predict(const std::vector<float>& data, size_t rows, size_t cols) {
  std::lock_guard lock(mu_);
  DMatrixHandle matrix = nullptr;
  if (XGDMatrixCreateFromMat(data.data(), rows, cols, std::numeric_limits<float>::quiet_NaN(), &matrix) != 0) {
    return InvalidArgument(LastError());
  }
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  const int rc = XGBoosterPredictFromDMatrix(static_cast<BoosterHandle>(booster_), matrix, predict_config_.c_str(), &shape,
                                            &dims, &result);
  if (rc != 0) {
    std::string why = LastError();
    XGDMatrixFree(matrix);
    return InvalidArgument(why);
  }
  Prediction p;
  p.rows = rows;
  size_t total = 1;
  for (bst_ulong i = 0; i < dims; ++i) total *= shape[i];
  p.columns = dims >= 2 && shape[1] > 1 ? static_cast<size_t>(total / rows) : 0;
  p.values.assign(result, result + total);
  XGDMatrixFree(matrix);
  return p;
}

NativeResponse ServeXgboost(XgboostModel& model, const std::string& content_type, const std::string& accept_header,
                            const std::string& body, const std::string& default_accept) {
  std::string kind = MediaType(content_type);
  if (kind.empty()) kind = std::string(kJson);
  // The Accept type first, as the worker negotiates it before decoding.
  std::string accept;
  if (Trim(accept_header).empty()) {
    accept = OneOf(kind, kEchoed) ? kind : default_accept;
  } else {
    std::string_view rest = accept_header;
    while (true) {
      const size_t comma = rest.find(',');
      std::string part = MediaType(rest.substr(0, comma));
      if (part.empty() || part == "*/*") part = default_accept;
      if (OneOf(part, kEncodable)) {
        accept = part;
        break;
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (accept.empty()) {
      return Error(406, "NotAcceptable",
                   fmt::format("accept type {} is not supported by the default output_fn (supported: {}); define "
                               "output_fn in your inference script",
                               PyRepr(accept_header), fmt::join(kEncodable, ", ")));
    }
  }
  StatusOr<Matrix> matrix = InvalidArgument("");
  std::string too_wide;
  if ((kind == kCsv || kind == kLibsvm || kind == kXLibsvm) && !IsValidUtf8(body)) {
    return Error(400, "BadRequest", "payload cannot be decoded as utf-8: the body is not valid UTF-8");
  }
  if (kind == kCsv) {
    matrix = DecodeCsv(body);
  } else if (kind == kLibsvm || kind == kXLibsvm) {
    matrix = DecodeLibsvm(body, model.num_features(), too_wide);
    if (!too_wide.empty()) return Error(500, "XGBoostError", too_wide);
  } else {
    return Error(415, "UnsupportedContentType",
                 fmt::format("content type {} is not read by Loam's native XGBoost server (supported: text/csv, "
                             "text/libsvm, text/x-libsvm, as SageMaker's XGBoost container); set "
                             "LOAM_XGBOOST_NATIVE=false in the model's Environment to serve it with the Python worker",
                             PyRepr(kind)));
  }
  if (!matrix.ok()) return Error(400, "BadRequest", matrix.status().message());
  auto prediction = model.Predict(matrix->data, matrix->rows, matrix->cols);
  if (!prediction.ok()) return Error(500, "XGBoostError", prediction.status().message());
  if (accept == kCsv) return {200, std::string(kCsv), EncodeCsv(*prediction)};
  if (accept == kNpy) return {200, std::string(kNpy), EncodeNpy(*prediction)};
  if (accept == kJsonLines || accept == kXJsonLines) return {200, accept, EncodeJsonLines(*prediction)};
  return {200, std::string(kJson), EncodeJson(*prediction)};
}

}  // namespace loam::hosting
