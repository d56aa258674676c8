// Human-friendly run names ("bold-fox-123"), as MLflow gives runs created without one.
#pragma once

#include <string>

namespace loam::tracking {
std::string GenerateRunName();
}
