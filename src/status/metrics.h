// Metrics: a small registry of counters, gauges and histograms, rendered in
// Prometheus's text exposition format 0.0.4 for conchd's /metrics.
//
//   Metrics metrics;
//   Counter& ticks = metrics.AddCounter(
//       "conch_cron_ticks_total", "Ticks by outcome", {"job", "outcome"});
//   ticks.Inc({"nightly", "claimed"});
//   std::string page = metrics.Render();
//
// A family has a name, a help text and label names; its series are
// addressed by label values, given in the order of the label names, and
// come into being at their first update. A family without labels has its
// one series from the start, at zero. Names and label names are the
// program's own: an invalid one, a duplicate family, or label values that
// do not match the label names are bugs (CONCH_CHECK), not errors.
//
// Rendering: "# HELP" and "# TYPE" once per family, families in
// registration order, series sorted by label values, label values escaped
// (backslash, double quote, newline), numbers as FormatValue() writes them.
//
// Thread contract: every method is safe from any thread. Each family has a
// mutex of its own, so Render() shows each family as of one moment, not
// all families as of the same one. The references AddCounter() and the
// like return live as long as the Metrics.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"

namespace conch::status {

// The Content-Type of Render()'s text.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Label values, in the order of the family's label names.
using Labels = std::vector<std::string>;

// What every kind of family shares: its name, help text, label names and
// mutex. Series are kept by the kinds.
class Family {
 public:
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;
  virtual ~Family() = default;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends the family's HELP, TYPE and sample lines to *out.
  void Render(std::string* out) const EXCLUDES(mu_);

 protected:
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::string_view type);

  // Checks that `labels` has one value per label name.
  void CheckArity(const Labels& labels) const;
  // Appends one sample line: `<name><suffix>{a="x",b="y"} <value>`, with
  // `extra` (`le="0.5"`) as one more label when not empty.
  void AppendSample(std::string* out, std::string_view suffix,
                    const Labels& labels, double value,
                    std::string_view extra = {}) const;

  // Appends the sample lines of every series.
  virtual void RenderSeries(std::string* out) const REQUIRES(mu_) = 0;

  mutable Mutex mu_;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::string type_;
};

// A value that only goes up (ticks, failures), one per series.
class Counter final : public Family {
 public:
  Counter(std::string name, std::string help, std::vector<std::string> labels);

  void Inc(const Labels& labels) EXCLUDES(mu_) { Add(labels, 1); }
  // Adds `delta`, which must not be negative.
  void Add(const Labels& labels, double delta) EXCLUDES(mu_);
  // Drops the series (a job that was removed); a no-op if it has none.
  void Remove(const Labels& labels) EXCLUDES(mu_);

 private:
  void RenderSeries(std::string* out) const override REQUIRES(mu_);

  std::map<Labels, double> series_ GUARDED_BY(mu_);
};

// A value that goes up and down (running jobs, last success time).
class Gauge final : public Family {
 public:
  Gauge(std::string name, std::string help, std::vector<std::string> labels);

  void Set(const Labels& labels, double value) EXCLUDES(mu_);
  void Add(const Labels& labels, double delta) EXCLUDES(mu_);
  // Drops the series; a no-op if it has none.
  void Remove(const Labels& labels) EXCLUDES(mu_);

 private:
  void RenderSeries(std::string* out) const override REQUIRES(mu_);

  std::map<Labels, double> series_ GUARDED_BY(mu_);
};

// Observations counted into buckets by upper bound (run durations in
// seconds), rendered as cumulative `_bucket{le="..."}` lines ending with
// le="+Inf", then `_sum` and `_count`.
class Histogram final : public Family {
 public:
  // `buckets`: the upper bounds, strictly increasing; +Inf is added when
  // not given last.
  Histogram(std::string name, std::string help, std::vector<std::string> labels,
            std::vector<double> buckets);

  void Observe(const Labels& labels, double value) EXCLUDES(mu_);
  // Drops the series; a no-op if it has none.
  void Remove(const Labels& labels) EXCLUDES(mu_);

 private:
  struct Series {
    std::vector<uint64_t> counts;  // per bucket, not cumulative
    double sum = 0;
    uint64_t count = 0;
  };

  Series& SeriesOf(const Labels& labels) REQUIRES(mu_);
  void RenderSeries(std::string* out) const override REQUIRES(mu_);

  const std::vector<double> bounds_;  // ends with +Inf
  std::map<Labels, Series> series_ GUARDED_BY(mu_);
};

class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Registers a family. `name` matches [a-zA-Z_:][a-zA-Z0-9_:]* and is not
  // registered yet; each label name matches [a-zA-Z_][a-zA-Z0-9_]*, does
  // not start with "__", and is not "le" in a histogram.
  Counter& AddCounter(std::string name, std::string help,
                      std::vector<std::string> labels = {}) EXCLUDES(mu_);
  Gauge& AddGauge(std::string name, std::string help,
                  std::vector<std::string> labels = {}) EXCLUDES(mu_);
  Histogram& AddHistogram(std::string name, std::string help,
                          std::vector<std::string> labels,
                          std::vector<double> buckets) EXCLUDES(mu_);

  // Every family in the text format, in registration order.
  std::string Render() const EXCLUDES(mu_);

 private:
  template <typename Kind>
  Kind& Register(std::unique_ptr<Kind> family) EXCLUDES(mu_);

  // Taken before any family's own mutex.
  mutable Mutex mu_;
  std::vector<std::unique_ptr<Family>> families_ GUARDED_BY(mu_);
};

// A number as the text format reads it: whole numbers up to 2^53 in full
// ("3", "1700000000"), others in the shortest form that reads back to the
// same double ("0.25", "1e+21"), and "+Inf", "-Inf", "NaN".
std::string FormatValue(double value);

}  // namespace conch::status
