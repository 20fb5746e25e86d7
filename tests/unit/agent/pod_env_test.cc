#include "agent/control/pod_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace netrig::agent::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(PodEnvTest, ResourceNamesBecomeTheDevicePluginsVariable) {
  EXPECT_EQ(DevicePluginEnvName("intel.com/sriov_netdevice"), "PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE");
  EXPECT_EQ(DevicePluginEnvName("nvidia.com/mlnx-vf"), "PCIDEVICE_NVIDIA_COM_MLNX_VF");
}

TEST(PodEnvTest, VfsOfTheResourceBecomePciPortsInOrder) {
  auto ports = PortsFromDevicePlugin(
      "intel.com/sriov_netdevice", {"west", "east"},
      Env({{"PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE", "0000:3B:02.0, 0000:3b:0a.1,0000:3b:02.2"}}));
  ASSERT_TRUE(ports.ok()) << ports.status();
  ASSERT_EQ(ports->size(), 2u);
  EXPECT_EQ((*ports)[0].name(), "west");
  EXPECT_EQ((*ports)[0].pmd(), "pci");
  EXPECT_EQ((*ports)[0].pci(), "0000:3b:02.0");
  EXPECT_EQ((*ports)[1].name(), "east");
  EXPECT_EQ((*ports)[1].pci(), "0000:3b:0a.1");
}

TEST(PodEnvTest, MissingShortOrMalformedAllocationsSayWhatToFix) {
  auto missing = PortsFromDevicePlugin("intel.com/sriov_netdevice", {"west"}, Env({}));
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE is not set"));
  auto short_of = PortsFromDevicePlugin("r.io/vf", {"west", "east"},
                                        Env({{"PCIDEVICE_R_IO_VF", "0000:3b:02.0"}}));
  EXPECT_THAT(std::string(short_of.status().message()),
              HasSubstr("has 1 device(s) for 2 ports: request 2 of r.io/vf"));
  for (const char* bad : {"3b:02.0", "0000:3b:02.8", "0000:3b:2.0", "0000:zz:02.0", " , "}) {
    auto r = PortsFromDevicePlugin("r.io/vf", {"west"}, Env({{"PCIDEVICE_R_IO_VF", bad}}));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("PCIDEVICE_R_IO_VF")) << bad;
  }
}

TEST(PodEnvTest, CpuListsAsTheKernelWritesThem) {
  EXPECT_THAT(*ParseCpuList("cpuset", "2-3,6"), ElementsAre(2u, 3u, 6u));
  EXPECT_THAT(*ParseCpuList("cpuset", "7,1-2,2"), ElementsAre(1u, 2u, 7u));
  EXPECT_THAT(*ParseCpuList("cpuset", "0\n"), ElementsAre(0u));
  for (const char* bad : {"", "3-1", "a", "1-", "-2", "1,,x", "5000"}) {
    auto r = ParseCpuList("cpuset.cpus.effective", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("cpuset.cpus.effective")) << bad;
  }
}

TEST(PodEnvTest, AllowedCpusAreThoseOfThisProcess) {
  auto cpus = AllowedCpus();
  ASSERT_TRUE(cpus.ok()) << cpus.status();
  EXPECT_FALSE(cpus->empty());
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  for (unsigned c : *cpus) EXPECT_TRUE(CPU_ISSET(c, &set)) << c;
}

}  // namespace
}  // namespace netrig::agent::control
