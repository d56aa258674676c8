// JSONata's regular expressions (`/ab+c/i`). They are written in JavaScript's syntax and run on
// RE2, which matches in linear time, so no expression can stall an execution. A regex is a
// function value: applied to a string it gives the first match object
// ({match, start, end, groups, next}), and $match, $replace, $split and $contains take it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workflows/jsonata/value.h"

namespace re2 {
class RE2;
}

namespace loam::jsonata {

// Always owned by a shared_ptr (Compile makes them), so a match object's `next` can keep its
// regex alive through shared_from_this().
class Regex : public Function, public std::enable_shared_from_this<Regex> {
 public:
  struct Match {
    size_t start = 0;  // byte offsets into the searched text
    size_t end = 0;
    std::string text;  // the matched text
    std::vector<std::optional<std::string>> groups;  // capture groups 1..n; nullopt when unset
  };

  // `flags` is any of "i" and "m" (JSONata's two). An invalid pattern, or JavaScript syntax RE2
  // cannot run (backreferences, lookaround), is an error (S0302-style) naming the problem.
  static StatusOr<std::shared_ptr<const Regex>> Compile(std::string_view pattern, std::string_view flags);
  ~Regex() override;

  // The first match starting at or after byte `from`; nullopt when none.
  std::optional<Match> Find(std::string_view text, size_t from) const;

  const std::string& source() const { return source_; }
  size_t Arity() const override { return 1; }
  // The match object JSONata gives: {"match", "start", "end" (code point offsets), "groups",
  // "next"}, or undefined when nothing matches.
  StatusOr<Value> Call(std::vector<Value> args, const Value& context, CallContext& call) const override;

 private:
  Regex() = default;
  std::string source_;
  std::unique_ptr<re2::RE2> re_;
};

}  // namespace loam::jsonata
