#include "sim/buggify.h"

#include <gtest/gtest.h>

#include <string>

namespace replsim::sim {
namespace {

// (Built by append: GCC 12 warns falsely on `"literal" + std::to_string(i)`.)
std::string site_name(int i) {
  std::string name = "site";
  name += std::to_string(i);
  return name;
}

TEST(Buggify, SiteEnablementDependsOnlyOnSeedAndNameNotOnCallOrder) {
  Buggify forward(99, Prng(1), true);
  Buggify backward(99, Prng(2), true);
  for (int i = 0; i < 200; ++i) forward.fire(site_name(i));
  for (int i = 199; i >= 0; --i) backward.fire(site_name(i));
  for (int i = 0; i < 200; ++i) {
    const std::string site = site_name(i);
    EXPECT_EQ(forward.sites().at(site).enabled, backward.sites().at(site).enabled) << site;
    EXPECT_EQ(forward.sites().at(site).enabled, forward.site_enabled(site));
  }
}

TEST(Buggify, AboutAQuarterOfSitesAreEnabledPerRun) {
  Buggify b(4242, Prng(1), true);
  int enabled = 0;
  const int sites = 4000;
  for (int i = 0; i < sites; ++i) enabled += b.site_enabled(site_name(i));
  EXPECT_NEAR(static_cast<double>(enabled) / sites, Buggify::kSiteEnableProbability, 0.025);
}

TEST(Buggify, DifferentSeedsEnableDifferentSites) {
  Buggify a(1, Prng(1), true), b(2, Prng(1), true);
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string site = site_name(i);
    differ += a.site_enabled(site) != b.site_enabled(site);
  }
  EXPECT_GT(differ, 10);
}

TEST(Buggify, EnabledSiteFiresAboutAQuarterOfCallsAndCountsThem) {
  Buggify b(7, Prng(7), true);
  std::string site;
  for (int i = 0; site.empty(); ++i) {
    if (b.site_enabled(site_name(i))) site = site_name(i);
  }
  int fired = 0;
  const int calls = 20000;
  for (int i = 0; i < calls; ++i) fired += b.fire(site);
  EXPECT_NEAR(static_cast<double>(fired) / calls, Buggify::kFireProbability, 0.015);
  EXPECT_EQ(b.sites().at(site).calls, static_cast<uint64_t>(calls));
  EXPECT_EQ(b.sites().at(site).fired, static_cast<uint64_t>(fired));
  EXPECT_EQ(b.fired_total(), static_cast<uint64_t>(fired));
}

TEST(Buggify, DisabledSiteNeverFires) {
  Buggify b(7, Prng(7), true);
  std::string site;
  for (int i = 0; site.empty(); ++i) {
    if (!b.site_enabled(site_name(i))) site = site_name(i);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(b.fire(site));
}

TEST(Buggify, OffMeansNeverFiresAnywhere) {
  Buggify b(7, Prng(7), false);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(b.fire(site_name(i % 50)));
  EXPECT_EQ(b.fired_total(), 0u);
}

}  // namespace
}  // namespace replsim::sim
