#include "lib/spec/units.h"

#include "gtest/gtest.h"

namespace netrig::spec {
namespace {

TEST(UnitsTest, DurationsNeedAUnitAndMustBeFinite) {
  EXPECT_EQ(*ParseDurationText("30s"), absl::Seconds(30));
  EXPECT_EQ(*ParseDurationText("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseDurationText("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseDurationText("0"), absl::ZeroDuration());
  EXPECT_EQ(ParseDurationText("30").status().message(), "\"30\" has no unit (write 30s, 30ms, 30m or 30h)");
  EXPECT_FALSE(ParseDurationText("-5s").ok());
  EXPECT_FALSE(ParseDurationText("inf").ok());
  EXPECT_FALSE(ParseDurationText("2 days").ok());
  EXPECT_FALSE(ParseDurationText("").ok());
}

TEST(UnitsTest, PercentagesWithOrWithoutSign) {
  EXPECT_DOUBLE_EQ(*ParsePercent("5%"), 5);
  EXPECT_DOUBLE_EQ(*ParsePercent("0.5"), 0.5);
  EXPECT_FALSE(ParsePercent("five").ok());
  EXPECT_FALSE(ParsePercent("%").ok());
  EXPECT_FALSE(ParsePercent("nan%").ok());
}

TEST(UnitsTest, ByteQuantities) {
  EXPECT_EQ(*ParseByteQuantity("1Gi"), 1073741824u);
  EXPECT_EQ(*ParseByteQuantity("512Mi"), 536870912u);
  EXPECT_EQ(*ParseByteQuantity("2G"), 2000000000u);
  EXPECT_EQ(*ParseByteQuantity("1.5Gi"), 1610612736u);
  EXPECT_EQ(*ParseByteQuantity("4096"), 4096u);
  EXPECT_FALSE(ParseByteQuantity("1GB").ok());
  EXPECT_FALSE(ParseByteQuantity("Gi").ok());
  EXPECT_FALSE(ParseByteQuantity("0.5").ok());  // half a byte
  EXPECT_FALSE(ParseByteQuantity("99999999Pi").ok());
}

TEST(UnitsTest, CronAcceptsStandardSyntax) {
  for (const char* ok : {"0 2 * * *", "*/15 * * * *", "0 0-6/2 1,15 jan-jun mon-fri",
                         "30 4 * * 7", "@daily", "@weekly", "59 23 31 12 SAT"}) {
    EXPECT_TRUE(ValidateCron(ok).ok()) << ok << ": " << ValidateCron(ok);
  }
}

TEST(UnitsTest, CronErrorsNameTheField) {
  EXPECT_EQ(ValidateCron("0 2 * *").message(),
            "expected 5 fields (minute hour day-of-month month day-of-week), got 4");
  EXPECT_EQ(ValidateCron("61 * * * *").message(), "minute field \"61\": 61 is out of range 0-59");
  EXPECT_EQ(ValidateCron("0 24 * * *").message(), "hour field \"24\": 24 is out of range 0-23");
  EXPECT_EQ(ValidateCron("0 0 0 * *").message(),
            "day-of-month field \"0\": 0 is out of range 1-31");
  EXPECT_EQ(ValidateCron("0 0 * foo *").message(), "month field \"foo\": \"foo\" is not a number");
  EXPECT_EQ(ValidateCron("0 0 * * 5-1").message(), "day-of-week field \"5-1\": range 5-1 is reversed");
  EXPECT_EQ(ValidateCron("*/0 * * * *").message(), "minute field \"*/0\": step \"0\" must be 1..59");
  EXPECT_EQ(ValidateCron("1,,2 * * * *").message(), "minute field \"1,,2\": empty list item");
  EXPECT_FALSE(ValidateCron("@often").ok());
}

TEST(UnitsTest, KubernetesNames) {
  EXPECT_TRUE(IsDnsLabel("west-1"));
  EXPECT_FALSE(IsDnsLabel("West"));
  EXPECT_FALSE(IsDnsLabel("-west"));
  EXPECT_FALSE(IsDnsLabel(std::string(64, 'a')));
  EXPECT_TRUE(IsDnsSubdomain("nightly.rfc2544"));
  EXPECT_FALSE(IsDnsSubdomain("nightly..x"));
  EXPECT_EQ(CheckQualifiedName("app.kubernetes.io/name"), "");
  EXPECT_EQ(CheckQualifiedName("Bad_Prefix/name"), "the prefix before '/' must be a DNS subdomain");
  EXPECT_EQ(CheckQualifiedName("-x"), "must start and end with a letter or digit");
  EXPECT_EQ(CheckLabelValue(""), "");
  EXPECT_EQ(CheckLabelValue("a b"), "may contain only letters, digits, '-', '_' and '.'");
}

}  // namespace
}  // namespace netrig::spec
