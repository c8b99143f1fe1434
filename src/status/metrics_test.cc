#include "status/metrics.h"

#include <cmath>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace conch::status {
namespace {

TEST(MetricsTest, CounterSeriesAreSortedByLabelsUnderOneHeader) {
  Metrics m;
  Counter& ticks = m.AddCounter("conch_cron_ticks_total", "Ticks by outcome",
                                {"job", "outcome"});
  ticks.Inc({"nightly", "skipped"});
  ticks.Inc({"backup", "claimed"});
  ticks.Inc({"nightly", "claimed"});
  ticks.Add({"nightly", "claimed"}, 2);
  EXPECT_EQ(m.Render(),
            "# HELP conch_cron_ticks_total Ticks by outcome\n"
            "# TYPE conch_cron_ticks_total counter\n"
            "conch_cron_ticks_total{job=\"backup\",outcome=\"claimed\"} 1\n"
            "conch_cron_ticks_total{job=\"nightly\",outcome=\"claimed\"} 3\n"
            "conch_cron_ticks_total{job=\"nightly\",outcome=\"skipped\"} 1\n");
}

TEST(MetricsTest, FamiliesRenderInRegistrationOrder) {
  Metrics m;
  Gauge& running = m.AddGauge("zz_running", "Running jobs", {"job"});
  Counter& up = m.AddCounter("aa_starts_total", "Starts");
  running.Set({"a"}, 1);
  up.Inc({});
  EXPECT_EQ(m.Render(),
            "# HELP zz_running Running jobs\n"
            "# TYPE zz_running gauge\n"
            "zz_running{job=\"a\"} 1\n"
            "# HELP aa_starts_total Starts\n"
            "# TYPE aa_starts_total counter\n"
            "aa_starts_total 1\n");
}

TEST(MetricsTest, AFamilyWithoutLabelsStartsAtZeroAndOneWithLabelsEmpty) {
  Metrics m;
  m.AddGauge("conch_up", "Whether conchd runs");
  m.AddCounter("conch_runs_total", "Runs", {"job"});
  EXPECT_EQ(m.Render(),
            "# HELP conch_up Whether conchd runs\n"
            "# TYPE conch_up gauge\n"
            "conch_up 0\n"
            "# HELP conch_runs_total Runs\n"
            "# TYPE conch_runs_total counter\n");
}

TEST(MetricsTest, GaugesSetAddAndRemove) {
  Metrics m;
  Gauge& g = m.AddGauge("conch_next_tick_seconds", "Next tick", {"job"});
  g.Set({"a"}, 1700000000);
  g.Set({"b"}, 0.25);
  g.Add({"b"}, -1);
  g.Set({"c"}, 5);
  g.Remove({"c"});
  g.Remove({"never"});
  EXPECT_EQ(m.Render(),
            "# HELP conch_next_tick_seconds Next tick\n"
            "# TYPE conch_next_tick_seconds gauge\n"
            "conch_next_tick_seconds{job=\"a\"} 1700000000\n"
            "conch_next_tick_seconds{job=\"b\"} -0.75\n");
}

TEST(MetricsTest, RemovedCounterSeriesStartsAgainFromZero) {
  Metrics m;
  Counter& c = m.AddCounter("c_total", "C", {"job"});
  c.Add({"old"}, 7);
  c.Remove({"old"});
  c.Inc({"old"});
  EXPECT_EQ(m.Render(),
            "# HELP c_total C\n"
            "# TYPE c_total counter\n"
            "c_total{job=\"old\"} 1\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndEndWithInf) {
  Metrics m;
  Histogram& h = m.AddHistogram("conch_run_seconds", "Run durations", {"job"},
                                {0.5, 1, 10});
  h.Observe({"a"}, 0.5);  // on a bound: counts in that bucket
  h.Observe({"a"}, 0.75);
  h.Observe({"a"}, 30);
  EXPECT_EQ(m.Render(),
            "# HELP conch_run_seconds Run durations\n"
            "# TYPE conch_run_seconds histogram\n"
            "conch_run_seconds_bucket{job=\"a\",le=\"0.5\"} 1\n"
            "conch_run_seconds_bucket{job=\"a\",le=\"1\"} 2\n"
            "conch_run_seconds_bucket{job=\"a\",le=\"10\"} 2\n"
            "conch_run_seconds_bucket{job=\"a\",le=\"+Inf\"} 3\n"
            "conch_run_seconds_sum{job=\"a\"} 31.25\n"
            "conch_run_seconds_count{job=\"a\"} 3\n");
  h.Remove({"a"});
  EXPECT_EQ(m.Render(),
            "# HELP conch_run_seconds Run durations\n"
            "# TYPE conch_run_seconds histogram\n");
}

TEST(MetricsTest, HistogramWithoutLabelsStartsEmptyAndKeepsAGivenInf) {
  Metrics m;
  m.AddHistogram("h", "H", {}, {1, INFINITY});
  EXPECT_EQ(m.Render(),
            "# HELP h H\n"
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"+Inf\"} 0\n"
            "h_sum 0\n"
            "h_count 0\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Metrics m;
  Counter& c =
      m.AddCounter("c_total", "Help with \\ and\nnewline \"quoted\"", {"job"});
  c.Inc({"a\"b\\c\nd"});
  EXPECT_EQ(m.Render(),
            "# HELP c_total Help with \\\\ and\\nnewline \"quoted\"\n"
            "# TYPE c_total counter\n"
            "c_total{job=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, NumbersAreShortestRoundTrip) {
  struct Case {
    double value;
    const char* text;
  };
  for (const Case& c : std::vector<Case>{
           {0, "0"},
           {3, "3"},
           {-2, "-2"},
           {0.1, "0.1"},
           {1.0 / 3, "0.3333333333333333"},
           {1e21, "1e+21"},
           {9007199254740992.0, "9007199254740992"},
           {1.7e9, "1700000000"},
           {-0.0, "0"},
           {1.5e-7, "1.5e-07"},
           {INFINITY, "+Inf"},
           {-INFINITY, "-Inf"},
           {NAN, "NaN"},
       }) {
    EXPECT_EQ(FormatValue(c.value), c.text) << c.text;
  }
}

TEST(MetricsTest, UpdatesFromManyThreadsAllCount) {
  Metrics m;
  Counter& c = m.AddCounter("c_total", "C", {"t"});
  Histogram& h = m.AddHistogram("h", "H", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        c.Inc({"x"});
        h.Observe({}, 2);
        (void)m.Render();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::string page = m.Render();
  EXPECT_NE(page.find("c_total{t=\"x\"} 4000\n"), std::string::npos) << page;
  EXPECT_NE(page.find("h_count 4000\n"), std::string::npos) << page;
}

TEST(MetricsDeathTest, MisuseIsABug) {
  Metrics m;
  Counter& c = m.AddCounter("c_total", "C", {"job"});
  EXPECT_DEATH(c.Inc({}), "labels.size");
  EXPECT_DEATH(c.Add({"a"}, -1), "delta");
  EXPECT_DEATH(m.AddGauge("c_total", "again"), "name");
  EXPECT_DEATH(m.AddGauge("1bad", "bad name"), "ValidName");
  EXPECT_DEATH(m.AddGauge("g", "G", {"__reserved"}), "__");
  EXPECT_DEATH(m.AddHistogram("h", "H", {"le"}, {1}), "le");
  EXPECT_DEATH(m.AddHistogram("h", "H", {}, {2, 1}), "buckets");
}

}  // namespace
}  // namespace conch::status
