#include "controller/methodology/binary_search.h"

#include <cstdint>

namespace netrig::controller::methodology {
namespace {

// Halvings of `width` until it is <= resolution; mirrors what the search does to hi - lo.
uint32_t Halvings(double width, double resolution) {
  uint32_t n = 0;
  while (width > resolution && n < 2000) {
    width /= 2;
    ++n;
  }
  return n;
}

// Worst-case integer halvings: a pass leaves ceil(w / 2), a fail floor(w / 2).
uint32_t CountHalvings(uint64_t width, uint64_t min_step) {
  uint32_t n = 0;
  while (width > min_step) {
    width = width - width / 2;
    ++n;
  }
  return n;
}

}  // namespace

RateBinarySearch::RateBinarySearch(double min, double max, double resolution)
    : min_(min), max_(max), resolution_(resolution), lo_(min), hi_(max) {}

bool RateBinarySearch::Done() const {
  if (trials_ == 0) return false;
  return passed_at_max_ || hi_ - lo_ <= resolution_;
}

double RateBinarySearch::NextRate() const { return trials_ == 0 ? max_ : (lo_ + hi_) / 2; }

void RateBinarySearch::Record(bool pass) {
  const double rate = NextRate();
  if (pass) {
    lo_ = rate;
    any_pass_ = true;
    if (trials_ == 0) passed_at_max_ = true;
  } else {
    hi_ = rate;
  }
  ++trials_;
}

uint32_t RateBinarySearch::RemainingTrials() const {
  if (Done()) return 0;
  if (trials_ == 0) return MaxTrials(min_, max_, resolution_);
  return Halvings(hi_ - lo_, resolution_);
}

uint32_t RateBinarySearch::MaxTrials(double min, double max, double resolution) {
  return 1 + Halvings(max - min, resolution);
}

CountBinarySearch::CountBinarySearch(uint64_t max, uint64_t min_step)
    : max_(max), min_step_(min_step), hi_(max) {}

bool CountBinarySearch::Done() const {
  if (trials_ == 0) return false;
  return passed_at_max_ || hi_ - lo_ <= min_step_;
}

uint64_t CountBinarySearch::Next() const { return trials_ == 0 ? max_ : lo_ + (hi_ - lo_) / 2; }

void CountBinarySearch::Record(bool pass) {
  const uint64_t n = Next();
  if (pass) {
    lo_ = n;
    if (trials_ == 0) passed_at_max_ = true;
  } else {
    hi_ = n;
  }
  ++trials_;
}

uint32_t CountBinarySearch::RemainingTrials() const {
  if (Done()) return 0;
  if (trials_ == 0) return MaxTrials(max_, min_step_);
  return CountHalvings(hi_ - lo_, min_step_);
}

uint32_t CountBinarySearch::MaxTrials(uint64_t max, uint64_t min_step) {
  return 1 + CountHalvings(max, min_step);
}

}  // namespace netrig::controller::methodology
