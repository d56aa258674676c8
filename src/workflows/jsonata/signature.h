// Function signatures as JSONata writes them ("<s-nn?:s>", "<a<n>:n>", "<af?:a>"): parsed once,
// then used to check a call's arguments and coerce them the way the reference implementation
// does — a `-` parameter left out takes the context value, an array parameter given a single
// value gets it wrapped, a wrong type is error T0410 (T0411 for the context, T0412 for an
// array's members).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "workflows/jsonata/value.h"

namespace loam::jsonata {

class Signature {
 public:
  struct Parameter {
    std::string types;    // the symbols it accepts: "s", "n", "(sn)" as "sn", "x" for any...
    char type = 'x';      // the declared symbol ('(' for a choice)
    std::string subtype;  // "a<n>" gives "n"; "f<s:o>" gives "s:o"
    bool optional = false;      // '?'
    bool one_or_more = false;   // '+'
    bool context = false;       // '-'
    std::string regex;          // the symbol pattern this parameter matches
  };

  // InvalidArgument (S0401/S0402) for a malformed signature.
  static StatusOr<Signature> Parse(std::string_view text);

  // `args` checked and coerced for a call of `function_name`; `context` is the focus value a
  // `-` parameter takes when its argument is left out.
  StatusOr<std::vector<Value>> Validate(std::vector<Value> args, const Value& context,
                                        std::string_view function_name) const;

  // The number of declared parameters, the arity higher-order functions see.
  size_t ParameterCount() const { return parameters_.size(); }
  const std::vector<Parameter>& parameters() const { return parameters_; }

 private:
  std::vector<Parameter> parameters_;
  std::string pattern_;  // "^(...)(...)$" over one symbol per argument
};

// The one-letter symbol the signature language gives a value: "a", "b", "f", "l", "m"
// (undefined), "n", "o", "s".
char SymbolOf(const Value& value);

}  // namespace loam::jsonata
