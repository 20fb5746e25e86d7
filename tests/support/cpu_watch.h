// What the machine's CPUs did while a test ran, for the failure messages of tests whose result
// depends on the traffic generator getting its CPU (a shaper measured at line rate). When such a
// test fails on a machine where it passes alone, this says whether something else was busy:
// the host (steal), another process, a leftover namespace or container.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/process.h"

namespace netrig::testing {

class CpuWatch {
 public:
  CpuWatch() : start_(Read()) {}

  // "cpu over 3.0 s: user 41.2% system 30.1% softirq 9.8% steal 0.0% idle 18.9%; 3 netns, 0
  // containers; busiest: ..." (shares of all CPUs between construction and this call).
  std::string Report() const {
    const Ticks now = Read();
    std::array<double, kFields> d{};
    double total = 0;
    for (int i = 0; i < kFields; ++i) {
      d[i] = static_cast<double>(now[i] - start_[i]);
      total += d[i];
    }
    std::ostringstream out;
    out.precision(1);
    out << std::fixed;
    if (total <= 0) {
      out << "cpu: /proc/stat unreadable or no time passed";
    } else {
      auto pct = [&](int i) { return 100.0 * d[i] / total; };
      out << "cpu: user " << pct(0) + pct(1) << "% system " << pct(2) << "% softirq " << pct(6)
          << "% irq " << pct(5) << "% steal " << pct(7) << "% idle " << pct(3) + pct(4) << "%";
    }
    out << "; network namespaces: " << TrimTrailing(RunCommand("ip netns list 2>/dev/null | wc -l").out)
        << "; containers running: "
        << TrimTrailing(RunCommand("docker ps -q 2>/dev/null | wc -l").out)
        << "; busiest processes (lifetime %cpu):\n"
        << RunCommand("ps -eo pcpu,pid,etimes,comm --sort=-pcpu 2>/dev/null | head -8").out;
    return out.str();
  }

 private:
  static constexpr int kFields = 8;  // user nice system idle iowait irq softirq steal
  using Ticks = std::array<uint64_t, kFields>;

  static Ticks Read() {
    Ticks t{};
    std::ifstream f("/proc/stat");
    std::string cpu;
    f >> cpu;
    for (auto& v : t) f >> v;
    if (!f || cpu != "cpu") t.fill(0);
    return t;
  }

  Ticks start_;
};

// Prints the CpuWatch report when the test has failed by the time this goes out of scope, fatal
// assertions included.
class CpuReportOnFailure {
 public:
  CpuReportOnFailure() = default;
  CpuReportOnFailure(const CpuReportOnFailure&) = delete;
  CpuReportOnFailure& operator=(const CpuReportOnFailure&) = delete;
  ~CpuReportOnFailure() {
    if (::testing::Test::HasFailure()) std::printf("%s\n", watch_.Report().c_str());
  }

 private:
  CpuWatch watch_;
};

}  // namespace netrig::testing
