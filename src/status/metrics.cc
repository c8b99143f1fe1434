#include "status/metrics.h"

#include <charconv>
#include <cmath>
#include <set>
#include <utility>

#include "base/status.h"

namespace conch::status {
namespace {

// [a-zA-Z_][a-zA-Z0-9_]*, and ':' too in metric names.
bool ValidName(std::string_view name, bool colons) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_' || (colons && c == ':');
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

void CheckLabelNames(const std::vector<std::string>& labels) {
  std::set<std::string_view> seen;
  for (const std::string& label : labels) {
    CONCH_CHECK(ValidName(label, false));
    CONCH_CHECK(!label.starts_with("__"));  // reserved for Prometheus
    CONCH_CHECK(seen.insert(label).second);
  }
}

// HELP text escapes backslash and newline; label values also the double
// quote.
std::string Escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[32];
  // Whole numbers that a double holds exactly (counts, Unix times) in full:
  // "1700000000", where the shortest form would be "1.7e+09".
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (value == std::trunc(value) && std::fabs(value) <= kExact) {
    std::to_chars_result r =
        std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(value));
    return std::string(buf, r.ptr);
  }
  // Others in the shortest text that reads back to the same double:
  // "0.1", not "0.10000000000000001".
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), value);
  CONCH_CHECK(r.ec == std::errc());
  return std::string(buf, r.ptr);
}

// ---------------------------------------------------------------------------
// Family

Family::Family(std::string name, std::string help,
               std::vector<std::string> labels, std::string_view type)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(labels)),
      type_(type) {
  CONCH_CHECK(ValidName(name_, true));
  CheckLabelNames(label_names_);
}

void Family::Render(std::string* out) const {
  *out += "# HELP " + name_ + " " + Escape(help_, false) + "\n";
  *out += "# TYPE " + name_ + " " + type_ + "\n";
  MutexLock lock(mu_);
  RenderSeries(out);
}

void Family::CheckArity(const Labels& labels) const {
  CONCH_CHECK(labels.size() == label_names_.size());
}

void Family::AppendSample(std::string* out, std::string_view suffix,
                          const Labels& labels, double value,
                          std::string_view extra) const {
  *out += name_;
  *out += suffix;
  if (!labels.empty() || !extra.empty()) {
    *out += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) *out += ',';
      *out += label_names_[i] + "=\"" + Escape(labels[i], true) + "\"";
    }
    if (!extra.empty()) {
      if (!labels.empty()) *out += ',';
      *out += extra;
    }
    *out += '}';
  }
  *out += ' ' + FormatValue(value) + '\n';
}

// ---------------------------------------------------------------------------
// Counter and Gauge

Counter::Counter(std::string name, std::string help,
                 std::vector<std::string> labels)
    : Family(std::move(name), std::move(help), std::move(labels), "counter") {
  MutexLock lock(mu_);
  if (label_names().empty()) series_[{}] = 0;
}

void Counter::Add(const Labels& labels, double delta) {
  CheckArity(labels);
  CONCH_CHECK(delta >= 0);  // also false for NaN
  MutexLock lock(mu_);
  series_[labels] += delta;
}

void Counter::Remove(const Labels& labels) {
  CheckArity(labels);
  MutexLock lock(mu_);
  series_.erase(labels);
}

void Counter::RenderSeries(std::string* out) const {
  for (const auto& [labels, value] : series_) {
    AppendSample(out, "", labels, value);
  }
}

Gauge::Gauge(std::string name, std::string help,
             std::vector<std::string> labels)
    : Family(std::move(name), std::move(help), std::move(labels), "gauge") {
  MutexLock lock(mu_);
  if (label_names().empty()) series_[{}] = 0;
}

void Gauge::Set(const Labels& labels, double value) {
  CheckArity(labels);
  MutexLock lock(mu_);
  series_[labels] = value;
}

void Gauge::Add(const Labels& labels, double delta) {
  CheckArity(labels);
  MutexLock lock(mu_);
  series_[labels] += delta;
}

void Gauge::Remove(const Labels& labels) {
  CheckArity(labels);
  MutexLock lock(mu_);
  series_.erase(labels);
}

void Gauge::RenderSeries(std::string* out) const {
  for (const auto& [labels, value] : series_) {
    AppendSample(out, "", labels, value);
  }
}

// ---------------------------------------------------------------------------
// Histogram

namespace {

std::vector<double> BoundsOf(std::vector<double> buckets) {
  for (size_t i = 0; i < buckets.size(); ++i) {
    CONCH_CHECK(!std::isnan(buckets[i]));
    CONCH_CHECK(i == 0 || buckets[i - 1] < buckets[i]);
  }
  if (buckets.empty() || !std::isinf(buckets.back())) {
    buckets.push_back(INFINITY);
  }
  return buckets;
}

}  // namespace

Histogram::Histogram(std::string name, std::string help,
                     std::vector<std::string> labels,
                     std::vector<double> buckets)
    : Family(std::move(name), std::move(help), std::move(labels), "histogram"),
      bounds_(BoundsOf(std::move(buckets))) {
  for (const std::string& label : label_names()) CONCH_CHECK(label != "le");
  MutexLock lock(mu_);
  if (label_names().empty()) SeriesOf({});
}

Histogram::Series& Histogram::SeriesOf(const Labels& labels) {
  Series& series = series_[labels];
  if (series.counts.empty()) series.counts.assign(bounds_.size(), 0);
  return series;
}

void Histogram::Observe(const Labels& labels, double value) {
  CheckArity(labels);
  // The first bucket whose bound is at least `value`; NaN lands in +Inf.
  size_t bucket = 0;
  while (bucket + 1 < bounds_.size() && !(value <= bounds_[bucket])) ++bucket;
  MutexLock lock(mu_);
  Series& series = SeriesOf(labels);
  ++series.counts[bucket];
  series.sum += value;
  ++series.count;
}

void Histogram::Remove(const Labels& labels) {
  CheckArity(labels);
  MutexLock lock(mu_);
  series_.erase(labels);
}

void Histogram::RenderSeries(std::string* out) const {
  for (const auto& [labels, series] : series_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += series.counts[i];
      AppendSample(out, "_bucket", labels, static_cast<double>(cumulative),
                   "le=\"" + FormatValue(bounds_[i]) + "\"");
    }
    AppendSample(out, "_sum", labels, series.sum);
    AppendSample(out, "_count", labels, static_cast<double>(series.count));
  }
}

// ---------------------------------------------------------------------------
// Metrics

template <typename Kind>
Kind& Metrics::Register(std::unique_ptr<Kind> family) {
  Kind& out = *family;
  MutexLock lock(mu_);
  for (const std::unique_ptr<Family>& existing : families_) {
    CONCH_CHECK(existing->name() != family->name());
  }
  families_.push_back(std::move(family));
  return out;
}

Counter& Metrics::AddCounter(std::string name, std::string help,
                             std::vector<std::string> labels) {
  return Register(std::make_unique<Counter>(std::move(name), std::move(help),
                                            std::move(labels)));
}

Gauge& Metrics::AddGauge(std::string name, std::string help,
                         std::vector<std::string> labels) {
  return Register(std::make_unique<Gauge>(std::move(name), std::move(help),
                                          std::move(labels)));
}

Histogram& Metrics::AddHistogram(std::string name, std::string help,
                                 std::vector<std::string> labels,
                                 std::vector<double> buckets) {
  return Register(std::make_unique<Histogram>(
      std::move(name), std::move(help), std::move(labels), std::move(buckets)));
}

std::string Metrics::Render() const {
  std::string out;
  MutexLock lock(mu_);
  for (const std::unique_ptr<Family>& family : families_) family->Render(&out);
  return out;
}

}  // namespace conch::status
