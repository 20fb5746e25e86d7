// The container images end to end: scripts/build-images.sh builds (or reuses) the images, the
// test runs the controller image and the agent image on a user-defined Docker network, gives
// the agent two ports into a router namespace it creates, and runs a short RFC 2544 throughput
// test through the controller with the netrigctl shipped in the controller image.
//
//   [docker network netrig-ct<id>]
//     controller container ◄──gRPC── agent container (pod-style: it joins the network namespace
//                                     of a holder container, like a Kubernetes pause container)
//                                       west 198.18.1.2          east 198.19.1.2
//                                        │ veth                    │ veth
//   [netns nrct-r<id>: ip_forward]   ct<id>ra 198.18.1.1       ct<id>rb 198.19.1.1
//
// The router namespace forwards between the agent's ports (forwarding is on in that namespace
// only: Docker sets the root namespace's FORWARD policy to DROP). Containers, the network, the
// namespace and the veths are removed whatever the outcome.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/process.h"

namespace netrig {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::RunCommand;

const std::string kSourceDir = NETRIG_SOURCE_DIR;
const std::string kBinaryDir = NETRIG_BINARY_DIR;

// Fixed, locally administered MACs: the router's static neighbour and the agent's gateway need
// no lookup across namespaces.
constexpr char kWestMac[] = "02:00:c6:12:01:02";
constexpr char kRouterWestMac[] = "02:00:c6:12:01:01";
constexpr char kEastMac[] = "02:00:c6:13:01:02";
constexpr char kRouterEastMac[] = "02:00:c6:13:01:01";

// Runs `cmd` with stderr merged into the output.
CommandResult Sh(const std::string& cmd) { return RunCommand(cmd + " 2>&1"); }

// The agent sends 4 flows of 512-byte frames west → east through the router. maxRate caps the
// search at 2 % of 1 Gb/s (about 4.7 kframe/s), which AF_PACKET in a container and the kernel
// router forward without loss, so the search ends after a few 1 s trials.
std::string Spec() {
  return R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: containers}
spec:
  sut: {static: {name: ct-router}}
  ports:
    - {name: west, agent: {pool: default}, speed: 1G}
    - {name: east, agent: {pool: default}, speed: 1G}
  benchmark:
    rfc2544:
      tests: [throughput]
      frameSizes: [512]
      trialDuration: 1s
      resolution: 0.5
      maxRate: 2
      traffic: [{from: west, to: east, flows: 4}]
      waits: {drain: 300ms, settle: 0s}
  budget: 3m
)";
}

class ContainersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root to create a network namespace, veths and containers";
    }
    if (RunCommand("command -v docker >/dev/null 2>&1").exit_code != 0) {
      GTEST_SKIP() << "docker is not installed";
    }
    if (RunCommand("docker info >/dev/null 2>&1").exit_code != 0) {
      GTEST_SKIP() << "the Docker engine does not answer (docker info)";
    }
    BuildImages();
    if (HasFatalFailure()) return;

    const std::string id = std::to_string(getpid() % 100000);
    network_ = "netrig-ct" + id;
    controller_ = network_ + "-controller";
    holder_ = network_ + "-agent-netns";
    agent_ = network_ + "-agent";
    router_ = "nrct-r" + id;
    router_west_ = "ct" + id + "ra";
    router_east_ = "ct" + id + "rb";

    ASSERT_EQ(Sh("docker network create " + network_).exit_code, 0);
    network_created_ = true;
    // The controller with its embedded SQLite store, external SUTs, no calibration trial.
    const CommandResult c = Sh("docker run -d --name " + controller_ + " --network " + network_ +
                               " " + controller_image_ +
                               " --listen 0.0.0.0:7400 --rest 0.0.0.0:7401"
                               " --store sqlite:/var/lib/netrig/state.db"
                               " --results-dir /var/lib/netrig/results"
                               " --sut-provider none --calibration 0s");
    ASSERT_EQ(c.exit_code, 0) << c.out;

    // The agent's network namespace is held by a container that only sleeps (a pause
    // container), so its ports exist before netrig-agent starts as the agent image's entrypoint.
    const CommandResult h = Sh("docker run -d --name " + holder_ + " --network " + network_ +
                               " --entrypoint sleep " + agent_image_ + " infinity");
    ASSERT_EQ(h.exit_code, 0) << h.out;
    const std::string pid = testing::TrimTrailing(Sh("docker inspect -f '{{.State.Pid}}' " + holder_).out);
    ASSERT_GT(std::atoi(pid.c_str()), 0) << pid;

    ASSERT_EQ(CreateRouter(pid), "");

    // IPC_LOCK: the AF_PACKET rings are locked memory (mmap fails with EAGAIN under Docker's
    // memlock limit without it); NET_ADMIN: MAC and promiscuous mode of the ports; NET_RAW:
    // AF_PACKET sockets (in Docker's default set, explicit for runtimes that drop it). No
    // hugetlbfs is mounted in the container: DPDK runs on ordinary memory (--no-huge yes).
    const std::string controller_address = controller_ + ":7400";
    const CommandResult a =
        Sh("docker run -d --name " + agent_ + " --network container:" + holder_ +
           " --cap-add IPC_LOCK --cap-add NET_ADMIN --cap-add NET_RAW " + agent_image_ +
           " serve --controller " + controller_address + " --id agent-ct" +
           " --port name=west,pmd=net_af_packet,iface=west,speed=1G,gateway_mac=" + kRouterWestMac +
           " --port name=east,pmd=net_af_packet,iface=east,speed=1G" +
           " --lcores 0,1 --no-huge yes --mem 256");
    ASSERT_EQ(a.exit_code, 0) << a.out;
    ASSERT_TRUE(WaitAgentAvailable()) << Logs();
  }

  void TearDown() override {
    for (const std::string& name : {agent_, holder_, controller_}) {
      if (!name.empty()) Sh("docker rm -f " + name + " >/dev/null");
    }
    if (network_created_) Sh("docker network rm " + network_ + " >/dev/null");
    // The veths went with the holder's namespace; the router's ends with them.
    if (router_created_) Sh("ip netns del " + router_);
  }

  void BuildImages() {
    const std::string log = ::testing::TempDir() + "/containers_build_images.log";
    const auto start = absl::Now();
    // The programs this build made (Debian 12, the images' userland) go into the images; the
    // compile inside Docker (images/Containerfile.compile) is not repeated here.
    const CommandResult r = RunCommand(kSourceDir + "/scripts/build-images.sh --binaries " +
                                       kBinaryDir + " 2>" + log);
    ASSERT_EQ(r.exit_code, 0) << "scripts/build-images.sh failed:\n" << testing::ReadFile(log);
    std::printf("images ready in %.0f s\n", absl::ToDoubleSeconds(absl::Now() - start));
    for (const std::string& line : std::vector<std::string>(absl::StrSplit(r.out, '\n'))) {
      if (line.rfind("CONTROLLER_IMAGE=", 0) == 0) controller_image_ = line.substr(17);
      if (line.rfind("AGENT_IMAGE=", 0) == 0) agent_image_ = line.substr(12);
    }
    ASSERT_FALSE(controller_image_.empty()) << r.out;
    ASSERT_FALSE(agent_image_.empty()) << r.out;
  }

  // The router namespace and one veth pair per agent port, the agent ends created directly in
  // the holder container's namespace (`netns <pid>`). Returns the failing command's output.
  std::string CreateRouter(const std::string& pid) {
    const std::string r = "ip -n " + router_ + " ";
    const std::string in_agent = "nsenter -t " + pid + " -n ";
    const std::vector<std::string> steps = {
        "ip netns add " + router_,
        r + "link add " + router_west_ + " address " + kRouterWestMac +
            " type veth peer name west address " + kWestMac + " netns " + pid,
        r + "link add " + router_east_ + " address " + kRouterEastMac +
            " type veth peer name east address " + kEastMac + " netns " + pid,
        r + "link set lo up",
        r + "addr add 198.18.1.1/24 dev " + router_west_,
        r + "addr add 198.19.1.1/24 dev " + router_east_,
        r + "link set " + router_west_ + " up",
        r + "link set " + router_east_ + " up",
        "ip netns exec " + router_ + " sysctl -qw net.ipv4.ip_forward=1",
        "ip netns exec " + router_ + " sysctl -qw net.ipv4.conf.all.rp_filter=0",
        "ip netns exec " + router_ + " sysctl -qw net.ipv4.conf." + router_west_ + ".rp_filter=0",
        // The agent does not answer ARP: the router learns the east port statically.
        r + "neigh replace 198.19.1.2 lladdr " + kEastMac + " dev " + router_east_ +
            " nud permanent",
        in_agent + "ip link set west up",
        in_agent + "ip link set east up",
    };
    for (const std::string& step : steps) {
      const CommandResult res = Sh(step);
      if (step.rfind("ip netns add", 0) == 0 && res.exit_code == 0) router_created_ = true;
      if (res.exit_code != 0) return step + ": " + res.out;
    }
    return "";
  }

  // True once the controller lists agent-ct as available (registered, heartbeating, idle).
  bool WaitAgentAvailable() {
    for (int i = 0; i < 150; ++i) {
      const CommandResult r =
          RunCommand("docker exec " + controller_ +
                     " netrigctl --server 127.0.0.1:7400 get agents -o json 2>/dev/null");
      const json agents = json::parse(r.out, nullptr, false);
      if (r.exit_code == 0 && !agents.is_discarded() && agents.contains("agents")) {
        for (const auto& a : agents["agents"]) {
          if (a.value("id", "") == "agent-ct" && a.value("state", "") == "available") return true;
        }
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    return false;
  }

  std::string Logs() {
    return "controller log:\n" + Sh("docker logs --tail 30 " + controller_).out + "\nagent log:\n" +
           Sh("docker logs --tail 30 " + agent_).out;
  }

  std::string controller_image_, agent_image_;
  std::string network_, controller_, holder_, agent_, router_, router_west_, router_east_;
  bool network_created_ = false, router_created_ = false;
};

TEST_F(ContainersTest, ThroughputRunThroughARouterNamespaceSucceedsWithFramesReceived) {
  // The controller image runs as the unprivileged user netrig.
  EXPECT_EQ(testing::TrimTrailing(Sh("docker exec " + controller_ + " id -u").out), "10001");

  const std::string spec_file =
      ::testing::TempDir() + "/containers_spec_" + std::to_string(getpid()) + ".yaml";
  {
    FILE* f = std::fopen(spec_file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(Spec().c_str(), f);
    std::fclose(f);
  }
  // netrigctl inside the controller container, the spec on stdin.
  const CommandResult r = RunCommand(
      "docker exec -i " + controller_ +
      " netrigctl --server 127.0.0.1:7400 run -f - --wait -o json <" + spec_file + " 2>/dev/null");
  unlink(spec_file.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.out << "\n" << Logs();
  const json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_EQ(out["run"]["testRun"]["status"]["phase"], "Succeeded") << r.out;

  // Frames came back through the router: every valid trial received some, and the measured
  // throughput is positive.
  uint64_t rx_frames = 0;
  size_t trials = 0;
  for (const auto& trial : out["results"]["trials"]) {
    ++trials;
    const json& rx = trial.value("rxFrames", json("0"));
    rx_frames += rx.is_string() ? std::stoull(rx.get<std::string>()) : rx.get<uint64_t>();
  }
  EXPECT_GT(trials, 0u) << r.out;
  EXPECT_GT(rx_frames, 0u) << r.out;
  double throughput = 0;
  for (const auto& res : out["results"]["results"]) {
    if (res["metric"] == "throughput_fps") throughput = res["value"].get<double>();
  }
  EXPECT_GT(throughput, 0.0) << r.out;
  std::printf("containers: %zu trials, %llu frames received, throughput %.0f frames/s\n", trials,
              static_cast<unsigned long long>(rx_frames), throughput);
}

}  // namespace
}  // namespace netrig
