#include "controller/methodology/methodology.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace netrig::controller::methodology {

Methodology::~Methodology() = default;

double FrameLossPercent(uint64_t input_frames, uint64_t output_frames) {
  if (input_frames == 0 || output_frames >= input_frames) return 0;
  return static_cast<double>(input_frames - output_frames) * 100.0 /
         static_cast<double>(input_frames);
}

absl::Status CheckTrialResult(const TrialResult& result) {
  if (!result.valid) {
    return absl::UnavailableError(result.invalid_reason.empty() ? "trial marked invalid"
                                                                : result.invalid_reason);
  }
  if (result.tx_frames == 0) {
    return absl::UnavailableError("no frames were transmitted");
  }
  if (result.rx_frames > result.tx_frames) {
    return absl::UnavailableError(
        absl::StrFormat("%u unique frames received but only %u transmitted (counters inconsistent)",
                        result.rx_frames, result.tx_frames));
  }
  return absl::OkStatus();
}

}  // namespace netrig::controller::methodology
