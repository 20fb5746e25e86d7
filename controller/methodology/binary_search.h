// Search primitives shared by the methodologies. Pure arithmetic: the caller runs a trial at the
// proposed point and reports pass or fail.
#pragma once

#include <cstdint>

namespace netrig::controller::methodology {

// The reference binary search of METHODOLOGY.md §13.5, generalised to [min, max]: the first
// trial is at max; a pass sets lo = rate, a fail sets hi = rate; the next trial is (lo + hi) / 2;
// the search stops after a pass at max or when hi - lo <= resolution. The result is lo, the
// highest passing rate, when any trial passed.
//
// Number of trials: exactly 1 when the first trial (at max) passes, otherwise exactly
// 1 + ceil(log2((max - min) / resolution)) (1 when max - min <= resolution), whatever the
// DUT does, because every trial after the first halves hi - lo. MaxTrials() computes it.
class RateBinarySearch {
 public:
  // Requires min <= max and resolution > 0 (validated by the methodology's Create()).
  RateBinarySearch(double min, double max, double resolution);

  bool Done() const;
  // The rate of the next trial. Only meaningful when !Done().
  double NextRate() const;
  // Records the outcome of the trial at NextRate().
  void Record(bool pass);

  double lo() const { return lo_; }  // highest passing rate (or min when nothing passed)
  double hi() const { return hi_; }  // lowest failing rate (or max)
  bool any_pass() const { return any_pass_; }
  bool passed_at_max() const { return passed_at_max_; }
  uint32_t trials() const { return trials_; }
  // Trials still needed (exact for this algorithm).
  uint32_t RemainingTrials() const;

  static uint32_t MaxTrials(double min, double max, double resolution);

 private:
  double min_;
  double max_;
  double resolution_;
  double lo_;
  double hi_;
  bool any_pass_ = false;
  bool passed_at_max_ = false;
  uint32_t trials_ = 0;
};

// Integer binary search on a count (RFC 9004 back-to-back burst length; the load level of
// ETSI GS NFV-TST 009 §12.3 Binary Search replaced by the burst length): lo = 0 (an empty burst
// trivially passes), hi = max; the first trial is at max; then mid = lo + (hi - lo) / 2; a pass
// sets lo = mid, a fail sets hi = mid; stop after a pass at max or when hi - lo <= min_step.
// The result is lo. With min_step 1 the result is exact: lo passed and lo + 1 failed.
// Trials: 1 when max passes, otherwise at most 1 + ceil(log2(max / min_step)).
class CountBinarySearch {
 public:
  // Requires min_step >= 1 (validated by the methodology's Create()).
  CountBinarySearch(uint64_t max, uint64_t min_step);

  bool Done() const;
  uint64_t Next() const;
  void Record(bool pass);

  uint64_t lo() const { return lo_; }
  uint64_t hi() const { return hi_; }
  bool passed_at_max() const { return passed_at_max_; }
  uint32_t trials() const { return trials_; }
  // Upper bound on the trials still needed.
  uint32_t RemainingTrials() const;

  static uint32_t MaxTrials(uint64_t max, uint64_t min_step);

 private:
  uint64_t max_;
  uint64_t min_step_;
  uint64_t lo_ = 0;
  uint64_t hi_;
  bool passed_at_max_ = false;
  uint32_t trials_ = 0;
};

}  // namespace netrig::controller::methodology
