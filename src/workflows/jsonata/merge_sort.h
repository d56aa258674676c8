// The reference's top-down merge sort, shared by $sort (functions_collections.cc) and
// order-by (evaluator_paths.cc).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <vector>

#include "workflows/jsonata/value.h"

namespace loam::jsonata::internal {

// `after(a, b)` is true when `a` belongs after `b`.
using After = std::function<StatusOr<bool>(const Value&, const Value&)>;

// Stable, halves split at the middle, with its comparisons in the same order as the
// reference's (a comparator may have effects or fail, and fails on the same pair).
class MergeSorter {
 public:
  explicit MergeSorter(const After& after) : after_(after) {}

  Status Sort(std::vector<Value>& items) {
    scratch_.resize(items.size());
    return SortRange(items, 0, items.size());
  }

 private:
  Status SortRange(std::vector<Value>& items, size_t begin, size_t end) {
    if (end - begin <= 1) return Status::Ok();
    size_t middle = begin + (end - begin) / 2;
    if (Status s = SortRange(items, begin, middle); !s.ok()) return s;
    if (Status s = SortRange(items, middle, end); !s.ok()) return s;
    size_t left = begin, right = middle, out = begin;
    while (left < middle && right < end) {
      StatusOr<bool> after = after_(items[left], items[right]);
      if (!after.ok()) return after.status();
      scratch_[out++] = *after ? items[right++] : items[left++];
    }
    while (left < middle) scratch_[out++] = items[left++];
    while (right < end) scratch_[out++] = items[right++];
    std::copy(scratch_.begin() + begin, scratch_.begin() + end, items.begin() + begin);
    return Status::Ok();
  }

  const After& after_;
  std::vector<Value> scratch_;
};

inline Status MergeSort(std::vector<Value>& items, const After& after) {
  return MergeSorter(after).Sort(items);
}

}  // namespace loam::jsonata::internal
