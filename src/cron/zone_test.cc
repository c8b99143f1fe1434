#include "cron/zone.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace conch::cron {
namespace {

TEST(LoadZoneTest, LoadsIanaNames) {
  for (const char* name :
       {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
        "Etc/GMT+5", "America/Argentina/Buenos_Aires", "EST5EDT"}) {
    Result<absl::TimeZone> zone = LoadZone(name);
    ASSERT_TRUE(zone.ok()) << name << ": " << zone.status().message();
    EXPECT_EQ(zone->name(), name);
  }
}

TEST(LoadZoneTest, UnknownZone) {
  Result<absl::TimeZone> zone = LoadZone("Mars/Base");
  ASSERT_FALSE(zone.ok());
  EXPECT_EQ(zone.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(zone.status().message(), R"(unknown time zone "Mars/Base")");
  EXPECT_EQ(LoadZone("utc").status().message(), R"(unknown time zone "utc")");
  // A directory and a text file under zoneinfo are not zones either.
  EXPECT_EQ(LoadZone("Europe").status().message(),
            R"(unknown time zone "Europe")");
  EXPECT_EQ(LoadZone("zone.tab").status().message(),
            R"(unknown time zone "zone.tab")");
}

TEST(LoadZoneTest, RefusesNamesThatMeanEachHostsOwnZoneOrAPath) {
  for (const char* name :
       {"", "localtime", "Local", "/etc/localtime", "/usr/share/zoneinfo/UTC",
        "Europe/../Europe/Berlin", "../zoneinfo/UTC", "./UTC", "Europe//Berlin",
        "Europe/", "UTC+05:00", "CET-1CEST,M3.5.0,M10.5.0/3", "Europe/Ber lin",
        "Europe/Berlin\n"}) {
    Result<absl::TimeZone> zone = LoadZone(name);
    ASSERT_FALSE(zone.ok()) << name;
    EXPECT_EQ(zone.status().code(), Code::kInvalidArgument);
    EXPECT_TRUE(zone.status().message().starts_with("invalid time zone name"))
        << zone.status().message();
    EXPECT_EQ(zone.status().message().find('\n'), std::string::npos);
  }
}

// A scratch directory with the two files ResolveHostZone reads.
class HostZoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/conch-zone-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    sources_.timezone_file = dir_ + "/timezone";
    sources_.localtime_link = dir_ + "/localtime";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteTimezone(const std::string& text) const {
    std::ofstream(sources_.timezone_file) << text;
  }
  void LinkLocaltime(const std::string& target) const {
    std::filesystem::create_symlink(target, sources_.localtime_link);
  }

  std::string dir_;
  HostZoneSources sources_;
};

TEST_F(HostZoneTest, TzComesFirst) {
  WriteTimezone("Europe/Berlin\n");
  for (const char* tz : {"America/New_York", ":America/New_York",
                         "/usr/share/zoneinfo/America/New_York",
                         ":/usr/share/zoneinfo/posix/America/New_York"}) {
    sources_.tz_env = tz;
    HostZone zone = ResolveHostZone(sources_);
    EXPECT_EQ(zone.name, "America/New_York") << tz;
    EXPECT_EQ(zone.note, "") << tz;
  }
}

TEST_F(HostZoneTest, TzThatIsNotAZoneNameFallsBackToUtcWithANote) {
  WriteTimezone("Europe/Berlin\n");
  sources_.tz_env = "CET-1CEST,M3.5.0,M10.5.0/3";
  HostZone zone = ResolveHostZone(sources_);
  EXPECT_EQ(zone.name, "UTC");
  EXPECT_EQ(
      zone.note,
      R"(TZ names "CET-1CEST,M3.5.0,M10.5.0/3", which is not a time zone )"
      "name; using UTC (pass --tz or a TZ= prefix)");
}

TEST_F(HostZoneTest, EmptyTzCountsAsUnset) {
  WriteTimezone("Europe/Berlin\n");
  sources_.tz_env = "";
  EXPECT_EQ(ResolveHostZone(sources_).name, "Europe/Berlin");
}

TEST_F(HostZoneTest, EtcTimezoneBeforeTheSymlink) {
  WriteTimezone("  Australia/Lord_Howe  \nignored\n");
  LinkLocaltime("/usr/share/zoneinfo/Europe/Berlin");
  HostZone zone = ResolveHostZone(sources_);
  EXPECT_EQ(zone.name, "Australia/Lord_Howe");
  EXPECT_EQ(zone.note, "");
}

TEST_F(HostZoneTest, SymlinkTarget) {
  LinkLocaltime("../usr/share/zoneinfo/America/New_York");
  EXPECT_EQ(ResolveHostZone(sources_).name, "America/New_York");
}

TEST_F(HostZoneTest, SymlinkOutsideZoneinfoIsNotAName) {
  LinkLocaltime("/somewhere/else");
  HostZone zone = ResolveHostZone(sources_);
  EXPECT_EQ(zone.name, "UTC");
  EXPECT_NE(zone.note, "");
}

TEST_F(HostZoneTest, NothingGivesUtcWithANote) {
  HostZone zone = ResolveHostZone(sources_);
  EXPECT_EQ(zone.name, "UTC");
  EXPECT_NE(zone.note.find("using UTC"), std::string::npos);
}

TEST_F(HostZoneTest, BadEtcTimezoneGivesUtcWithANote) {
  WriteTimezone("Mars/Base\n");
  HostZone zone = ResolveHostZone(sources_);
  EXPECT_EQ(zone.name, "UTC");
  EXPECT_NE(zone.note.find(R"("Mars/Base")"), std::string::npos);
}

TEST(HostZoneRealTest, ResolvesToALoadableZone) {
  HostZone zone = ResolveHostZone();
  EXPECT_TRUE(LoadZone(zone.name).ok()) << zone.name;
}

}  // namespace
}  // namespace conch::cron
