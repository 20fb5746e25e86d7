#include "operator/conditions.h"

#include <gtest/gtest.h>

#include "absl/time/time.h"

namespace netrig::op {
namespace {

TEST(ConditionsTest, LastTransitionTimeMovesOnlyWithTheStatus) {
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  Json status = Json::object();
  EXPECT_TRUE(SetCondition(status, {"Succeeded", "Unknown", "Pending", "queued", 1}, t0));
  EXPECT_EQ(FindCondition(status, "Succeeded")->value("lastTransitionTime", ""), kube::FormatTime(t0));

  // Same content: nothing changes.
  EXPECT_FALSE(SetCondition(status, {"Succeeded", "Unknown", "Pending", "queued", 1},
                            t0 + absl::Seconds(5)));
  // New reason, message and generation, same status: updated, transition time kept.
  EXPECT_TRUE(SetCondition(status, {"Succeeded", "Unknown", "Running", "trial 3", 2},
                           t0 + absl::Seconds(10)));
  const Json* c = FindCondition(status, "Succeeded");
  EXPECT_EQ(c->value("reason", ""), "Running");
  EXPECT_EQ(c->value("observedGeneration", 0), 2);
  EXPECT_EQ(c->value("lastTransitionTime", ""), kube::FormatTime(t0));
  // New status: new transition time.
  EXPECT_TRUE(
      SetCondition(status, {"Succeeded", "True", "Succeeded", "", 2}, t0 + absl::Seconds(20)));
  EXPECT_EQ(FindCondition(status, "Succeeded")->value("lastTransitionTime", ""),
            kube::FormatTime(t0 + absl::Seconds(20)));
  EXPECT_TRUE(IsConditionTrue(status, "Succeeded"));
  EXPECT_EQ(status["conditions"].size(), 1u);

  EXPECT_TRUE(SetCondition(status, {"Running", "False", "Succeeded", "", 2}, t0));
  EXPECT_EQ(status["conditions"].size(), 2u);
  EXPECT_TRUE(RemoveCondition(status, "Running"));
  EXPECT_FALSE(RemoveCondition(status, "Running"));
  EXPECT_EQ(FindCondition(status, "Running"), nullptr);
}

TEST(ConditionsTest, Finalizers) {
  Json obj = {{"metadata", {{"name", "x"}}}};
  EXPECT_FALSE(HasFinalizer(obj, "netrig.io/run-cleanup"));
  EXPECT_TRUE(AddFinalizer(obj, "netrig.io/run-cleanup"));
  EXPECT_FALSE(AddFinalizer(obj, "netrig.io/run-cleanup"));
  EXPECT_TRUE(AddFinalizer(obj, "other"));
  EXPECT_TRUE(RemoveFinalizer(obj, "netrig.io/run-cleanup"));
  EXPECT_EQ(obj["metadata"]["finalizers"], Json::array({"other"}));
  EXPECT_FALSE(RemoveFinalizer(obj, "netrig.io/run-cleanup"));
}

TEST(ConditionsTest, TimesAndOwners) {
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  EXPECT_EQ(kube::FormatTime(t), "2027-01-15T08:00:00Z");
  EXPECT_EQ(ParseKubeTime("2027-01-15T08:00:00Z"), t);
  EXPECT_EQ(ParseKubeTime(""), absl::InfinitePast());
  EXPECT_EQ(ParseKubeTime("yesterday"), absl::InfinitePast());
  Json obj = {{"metadata",
               {{"ownerReferences",
                 Json::array({{{"kind", "A"}, {"name", "a"}},
                              {{"kind", "TestSuite"}, {"name", "s"}, {"controller", true}}})}}}};
  ASSERT_NE(ControllerOwner(obj), nullptr);
  EXPECT_EQ(ControllerOwner(obj)->value("name", ""), "s");
  EXPECT_EQ(ControllerOwner(Json::object()), nullptr);
}

}  // namespace
}  // namespace netrig::op
