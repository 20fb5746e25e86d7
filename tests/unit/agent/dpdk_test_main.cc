// GoogleTest main for data-plane tests: starts one EAL (no hugepages, no PCI, a ring loopback
// port) unless the binary is only listing its tests (gtest_discover_tests runs it at build time).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <rte_eal.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--gtest_list_tests") == 0) listing = true;
  }
  if (!::testing::GTEST_FLAG(list_tests) && !listing) {
    std::vector<std::string> args = {"dataplane_test", "-l", "0", "--no-huge", "-m", "512",
                                     "--no-pci", "--file-prefix", "netrigtest" + std::to_string(getpid()), "--vdev", "net_ring0",
                                     "--log-level", "warning"};
    std::vector<char*> eal_argv;
    for (auto& a : args) eal_argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
      fprintf(stderr, "EAL init failed\n");
      return 1;
    }
  }
  const int rc = RUN_ALL_TESTS();
  if (!listing) {
    const std::string dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return rc;
}
