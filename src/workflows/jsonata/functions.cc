#include "workflows/jsonata/functions.h"

#include <string_view>

namespace loam::jsonata {

const std::vector<NativeFunction>& StandardLibrary() {
  static const std::vector<NativeFunction> library = [] {
    std::vector<NativeFunction> parts;
    AddStringFunctions(parts);
    AddFormatFunctions(parts);
    AddNumericFunctions(parts);
    AddCollectionFunctions(parts);
    AddTimeFunctions(parts);
    AddStepFunctionsFunctions(parts);  // last: Step Functions' $random replaces JSONata's

    // A later definition of a name replaces an earlier one, in the earlier one's place.
    std::vector<NativeFunction> functions;
    functions.reserve(parts.size());
    for (const NativeFunction& function : parts) {
      bool replaced = false;
      for (NativeFunction& existing : functions) {
        if (std::string_view(existing.name) == function.name) {
          existing = function;
          replaced = true;
          break;
        }
      }
      if (!replaced) functions.push_back(function);
    }
    return functions;
  }();
  return library;
}

}  // namespace loam::jsonata
