#include "controller/api/live_view.h"

#include <algorithm>

namespace netrig::controller::api {
namespace {

// Rate from consecutive cumulative counts; a smaller elapsed time means a new trial began.
void Advance(uint64_t count, double elapsed_s, double& rate, uint64_t& last, double& last_s) {
  if (last_s < 0 || elapsed_s < last_s || count < last) {
    rate = elapsed_s > 0 ? static_cast<double>(count) / elapsed_s : 0;
  } else if (elapsed_s > last_s) {
    rate = static_cast<double>(count - last) / (elapsed_s - last_s);
  }
  last = count;
  last_s = elapsed_s;
}

}  // namespace

std::vector<metrics::LiveStream> LiveView::Update(const std::vector<run::LiveSample>& samples) {
  std::vector<std::string> changed;
  for (const run::LiveSample& s : samples) {
    Stream& st = streams_[s.stream];
    st.view.stream = s.stream;
    st.view.port = s.port;
    if (s.sender) {
      Advance(s.tx_packets, s.elapsed_s, st.tx.rate, st.tx.last, st.tx.last_s);
      st.view.offered_fps = st.tx.rate;
    }
    if (s.receiver) {
      Advance(s.rx_packets, s.elapsed_s, st.rx.rate, st.rx.last, st.rx.last_s);
      st.view.received_fps = st.rx.rate;
      st.view.latency_p50_s = static_cast<double>(s.latency_p50_ns) / 1e9;
      st.view.latency_p99_s = static_cast<double>(s.latency_p99_ns) / 1e9;
      st.view.latency_p999_s = static_cast<double>(s.latency_p999_ns) / 1e9;
    }
    if (st.tx.last > 0) {
      const double ratio = 1.0 - static_cast<double>(st.rx.last) / static_cast<double>(st.tx.last);
      st.view.loss_ratio = std::clamp(ratio, 0.0, 1.0);
    }
    if (std::find(changed.begin(), changed.end(), s.stream) == changed.end()) {
      changed.push_back(s.stream);
    }
  }
  std::vector<metrics::LiveStream> out;
  for (const std::string& name : changed) out.push_back(streams_[name].view);
  return out;
}

}  // namespace netrig::controller::api
