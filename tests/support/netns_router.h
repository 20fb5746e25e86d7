// A two-namespace test topology: a tester namespace holding the agent ports and a router
// namespace forwarding IPv4 between them (the SUT). Everything is created by the test and
// deleted with it; no traffic touches an interface the test did not make.
//
//   [tester]  <p>a ──veth── <r>a 198.18.1.1/24  [router: ip_forward]  <r>b 198.19.1.1/24 ──veth── <p>b
//             198.18.1.2                                                           198.19.1.2
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <string>

#include "tests/support/process.h"

namespace netrig::testing {

class NetnsRouter {
 public:
  // `tag` keeps names unique per test binary; interface names stay within 15 characters.
  explicit NetnsRouter(const std::string& tag) {
    const std::string id = std::to_string(getpid() % 100000);
    tester = "nr" + tag + "-t" + id;
    router = "nr" + tag + "-r" + id;
    tester_a = tag + "t" + id + "a";
    tester_b = tag + "t" + id + "b";
    router_a = tag + "r" + id + "a";
    router_b = tag + "r" + id + "b";
  }
  ~NetnsRouter() { Destroy(); }

  // Creates the namespaces, links, addresses and the static neighbour for 198.19.1.2 (the
  // agents do not answer ARP yet). Returns the failing command's output, or "" on success.
  std::string Create() {
    const std::string script =
        "set -e\n"
        "ip netns add " + tester + "\n"
        "ip netns add " + router + "\n"
        "ip -n " + tester + " link add " + tester_a + " type veth peer name " + router_a + " netns " + router + "\n"
        "ip -n " + tester + " link add " + tester_b + " type veth peer name " + router_b + " netns " + router + "\n"
        "ip -n " + tester + " link set lo up\n"
        "ip -n " + tester + " link set " + tester_a + " up\n"
        "ip -n " + tester + " link set " + tester_b + " up\n"
        "ip -n " + router + " link set lo up\n"
        "ip -n " + router + " addr add 198.18.1.1/24 dev " + router_a + "\n"
        "ip -n " + router + " addr add 198.19.1.1/24 dev " + router_b + "\n"
        "ip -n " + router + " link set " + router_a + " up\n"
        "ip -n " + router + " link set " + router_b + " up\n"
        "ip netns exec " + router + " sysctl -qw net.ipv4.ip_forward=1\n"
        "ip netns exec " + router + " sysctl -qw net.ipv4.conf.all.rp_filter=0\n"
        "ip netns exec " + router + " sysctl -qw net.ipv4.conf." + router_a + ".rp_filter=0\n";
    created_ = true;
    auto r = RunCommand("bash -c '" + script + "' 2>&1");
    if (r.exit_code != 0) return r.out;
    r = RunCommand("ip -n " + router + " neigh replace 198.19.1.2 lladdr " + Mac(tester, tester_b) +
                   " dev " + router_b + " nud permanent 2>&1");
    return r.exit_code == 0 ? "" : r.out;
  }

  // Adds a tbf shaper on the router's egress towards tester_b.
  std::string Shape(const std::string& tbf_args) {
    auto r = RunCommand("ip netns exec " + router + " tc qdisc add dev " + router_b + " root tbf " +
                        tbf_args + " 2>&1");
    return r.exit_code == 0 ? "" : r.out;
  }

  // Moves the calling thread into the tester namespace: sockets it opens afterwards, and the
  // processes it forks, live there (where the agents run). False on failure.
  bool EnterTester() {
    original_ns_ = open("/proc/self/ns/net", O_RDONLY);
    const int ns = open(("/var/run/netns/" + tester).c_str(), O_RDONLY);
    if (original_ns_ < 0 || ns < 0) return false;
    const bool ok = setns(ns, CLONE_NEWNET) == 0;
    close(ns);
    return ok;
  }
  // Back to the namespace the thread was in before EnterTester(); Destroy() calls it.
  void LeaveTester() {
    if (original_ns_ >= 0) {
      setns(original_ns_, CLONE_NEWNET);
      close(original_ns_);
      original_ns_ = -1;
    }
  }

  void Destroy() {
    LeaveTester();
    if (created_) {
      RunCommand("ip netns del " + tester + " 2>/dev/null; ip netns del " + router + " 2>/dev/null");
      created_ = false;
    }
  }

  static std::string Mac(const std::string& ns, const std::string& dev) {
    auto r = RunCommand("ip -n " + ns + " -br link show dev " + dev + " | awk '{print $3}'");
    std::string mac = r.out;
    while (!mac.empty() && (mac.back() == '\n' || mac.back() == ' ')) mac.pop_back();
    return mac;
  }
  std::string RouterMacA() const { return Mac(router, router_a); }

  std::string tester, router, tester_a, tester_b, router_a, router_b;

 private:
  bool created_ = false;
  int original_ns_ = -1;
};

}  // namespace netrig::testing
