#include "agent/control/config_loader.h"

#include <gtest/gtest.h>

#include "agent/control/plan_compiler.h"
#include "agent/control/standalone.h"

namespace netrig::agent::control {
namespace {

TEST(ConfigLoaderTest, ParsesYamlWithShorthands) {
  v1::StandaloneRun run;
  ASSERT_TRUE(ParseMessageText(R"(
ports:
  - {name: west, pmd: net_ring, speed: 10G}
streams:
  - name: a
    tx_port: west
    flows: 16
    l3: ipv6
    size: imix
    rate: 10%
    src_ip: "2001:2::5"
    dst_port: {start: "5000", count: 16, step: 2}
  - {tx_port: west, size: 64-128/8, rate: 1.5Mpps}
  - {tx_port: west, size: 100, rate: max}
  - {tx_port: west, rate: {burst_bytes: 64000, gap_ns: 5120000}}
duration: 2s
)", &run).ok());
  ASSERT_EQ(run.streams_size(), 4);
  const auto& a = run.streams(0);
  EXPECT_EQ(a.l3(), v1::L3_PROTOCOL_IPV6);
  EXPECT_EQ(a.size().imix(), "imix");
  EXPECT_EQ(a.rate().unit(), v1::RATE_UNIT_PERCENT_LINE);
  EXPECT_DOUBLE_EQ(a.rate().value(), 10);
  EXPECT_EQ(a.src_ip().start(), "2001:2::5");
  EXPECT_EQ(a.dst_port().count(), 16u);
  EXPECT_EQ(run.streams(1).size().sweep().min_bytes(), 64u);
  EXPECT_EQ(run.streams(1).size().sweep().step_bytes(), 8u);
  EXPECT_EQ(run.streams(1).rate().unit(), v1::RATE_UNIT_PPS);
  EXPECT_DOUBLE_EQ(run.streams(1).rate().value(), 1.5e6);
  EXPECT_EQ(run.streams(2).size().fixed_bytes(), 100u);
  EXPECT_TRUE(run.streams(2).rate().unlimited());
  EXPECT_EQ(run.streams(3).rate().burst_bytes(), 64000u);
}

TEST(ConfigLoaderTest, JsonIsAcceptedToo) {
  v1::StandaloneRun run;
  ASSERT_TRUE(ParseMessageText(
      R"({"ports": [{"name": "p", "pmd": "net_null"}], "streams": [{"txPort": "p", "flows": 3}]})",
      &run).ok());
  EXPECT_EQ(run.streams(0).tx_port(), "p");
  EXPECT_EQ(run.streams(0).flows(), 3u);
}

TEST(ConfigLoaderTest, ErrorsNameTheFieldPath) {
  v1::StandaloneRun run;
  auto s = ParseMessageText("streams: [{flows: -3}]", &run);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "streams[0].flows: expected an unsigned integer, got \"-3\"");
  s = ParseMessageText("streams: [{l3: ipv5}]", &run);
  EXPECT_NE(s.message().find("streams[0].l3: unknown value \"ipv5\""), std::string::npos) << s;
  s = ParseMessageText("streams: [{rate: fast}]", &run);
  EXPECT_NE(s.message().find("streams[0].rate:"), std::string::npos) << s;
  s = ParseMessageText("ports: {name: x}", &run);
  EXPECT_EQ(s.message(), "ports: expected a list");
  s = ParseMessageText("ports: [{name: [1, 2]}]", &run);
  EXPECT_EQ(s.message(), "ports[0].name: expected a single value");
  s = ParseMessageText("{{{", &run);
  EXPECT_NE(s.message().find("not valid YAML/JSON"), std::string::npos) << s;
}

TEST(ConfigLoaderTest, FlagShorthands) {
  auto p = ParsePortFlag("name=west,pmd=net_af_xdp,iface=veth0,queues=2");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->iface(), "veth0");
  EXPECT_EQ(p->queues(), 2u);
  auto s = ParseStreamFlag("tx=west,rx=east,flows=8,size=imix,rate=200Mbps,dst=198.19.1.9,"
                           "dst_port.start=7000,dst_port.count=8");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->tx_port(), "west");
  EXPECT_EQ(s->rx_port(), "east");
  EXPECT_EQ(s->dst_ip().start(), "198.19.1.9");
  EXPECT_EQ(s->dst_port().count(), 8u);
  EXPECT_EQ(s->rate().unit(), v1::RATE_UNIT_L2_BPS);
  EXPECT_FALSE(ParseStreamFlag("tx").ok());
  EXPECT_FALSE(ParsePortFlag("name=a,bogus=1").ok());
}

TEST(ValidateRunTest, RejectsBadStreamsBeforeAnythingStarts) {
  v1::StandaloneRun run;
  ASSERT_TRUE(ParseMessageText("ports: [{name: p, pmd: net_ring}]\n"
                               "streams: [{tx_port: q, rate: 1%}]",
                               &run).ok());
  EXPECT_EQ(ValidateRun(run).message(), "streams[0].tx_port: no port named \"q\"");
  run.mutable_streams(0)->set_tx_port("p");
  run.mutable_streams(0)->mutable_rate()->set_value(150);
  EXPECT_NE(ValidateRun(run).message().find("streams[0].rate"), std::string::npos);
  run.mutable_streams(0)->mutable_rate()->set_value(10);
  run.mutable_streams(0)->mutable_dst_ip()->set_start("300.1.1.1");
  EXPECT_NE(ValidateRun(run).message().find("streams[0].dst_ip.start"), std::string::npos);
  run.mutable_streams(0)->mutable_dst_ip()->set_start("198.19.1.2");
  run.mutable_streams(0)->mutable_dst_port()->set_start("65530");
  run.mutable_streams(0)->mutable_dst_port()->set_count(10);
  EXPECT_EQ(ValidateRun(run).message(), "streams[0].dst_port: port range runs past 65535");
  run.mutable_streams(0)->clear_dst_port();
  EXPECT_TRUE(ValidateRun(run).ok()) << ValidateRun(run);
  run.set_duration("forever");
  EXPECT_NE(ValidateRun(run).message().find("duration: \"forever\" is not a duration"),
            std::string::npos);
  run.set_duration("1s");
  run.add_ports()->set_name("p");
  run.mutable_ports(1)->set_pmd("net_ring");
  EXPECT_EQ(ValidateRun(run).message(), "ports[1].name: \"p\" is used by another port");
}

}  // namespace
}  // namespace netrig::agent::control
