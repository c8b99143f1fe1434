#include "cron/fields.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>
#include <vector>

#include "base/strings.h"

namespace conch::cron {

namespace {

constexpr std::array<std::string_view, 12> kMonthNames = {
    "jan", "feb", "mar", "apr", "may", "jun",
    "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct FieldSpec {
  std::string_view name;
  int number;  // 1-based position, for messages
  int min;
  int max;
  const std::string_view* names;  // names[i] is value min + i; or nullptr
  std::string_view name_hint;     // "month name (JAN-DEC)"
};

constexpr FieldSpec kMinute = {"minute", 1, 0, 59, nullptr, ""};
constexpr FieldSpec kHour = {"hour", 2, 0, 23, nullptr, ""};
constexpr FieldSpec kDayOfMonth = {"day of month", 3, 1, 31, nullptr, ""};
constexpr FieldSpec kMonth = {
    "month", 4, 1, 12, kMonthNames.data(), "month name (JAN-DEC)"};
constexpr FieldSpec kDayOfWeek = {
    "day of week", 5, 0, 6, kWeekdayNames.data(), "weekday name (SUN-SAT)"};

// Larger values are reported as themselves but need not be exact: they are
// out of every field's range.
constexpr int kValueCap = 1'000'000;

// The days each month can have, February in a leap year.
constexpr std::array<int, 13> kMaxDays = {0,  31, 29, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};

// One parsed field: its set and how it was written.
struct FieldBits {
  uint64_t bits = 0;
  bool star = false;     // robfig's star bit (fields.h)
  bool pattern = false;  // some item has "*", "?" or "/"
};

// A decimal number as strconv.Atoi reads it (optional "+"), capped at
// kValueCap; std::nullopt if `text` is not one.
std::optional<int> ParseNumber(std::string_view text) {
  if (text.starts_with('+')) text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = std::min(kValueCap, value * 10 + (c - '0'));
  }
  return value;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<int> ParseValue(std::string_view text, std::string_view item,
                       const FieldSpec& spec) {
  if (text.empty()) {
    return Error(Code::kInvalidArgument, "missing value in " + Quote(item));
  }
  if (spec.names != nullptr) {
    const std::string lower = Lower(text);
    for (int i = 0; i <= spec.max - spec.min; ++i) {
      if (spec.names[i] == lower) return spec.min + i;
    }
  }
  if (std::optional<int> n = ParseNumber(text)) return *n;
  std::string what = spec.names == nullptr
                         ? "a number"
                         : "a number or a " + std::string(spec.name_hint);
  return Error(Code::kInvalidArgument, Quote(text) + " is not " + what);
}

Status CheckBounds(int value, const FieldSpec& spec) {
  if (value < spec.min) {
    return Error(Code::kInvalidArgument, std::to_string(value) +
                                             " is below the minimum " +
                                             std::to_string(spec.min));
  }
  if (value > spec.max) {
    std::string hint = spec.number == kDayOfWeek.number && value == 7
                           ? " (use 0 or SUN for Sunday)"
                           : "";
    return Error(Code::kInvalidArgument, std::to_string(value) +
                                             " is above the maximum " +
                                             std::to_string(spec.max) + hint);
  }
  return Status::Ok();
}

Result<int> ParseStep(std::string_view text, std::string_view item) {
  if (text.empty()) {
    return Error(Code::kInvalidArgument,
                 "missing step after \"/\" in " + Quote(item));
  }
  std::optional<int> step = ParseNumber(text);
  if (!step) {
    return Error(Code::kInvalidArgument,
                 "step " + Quote(text) + " is not a number");
  }
  if (*step == 0) {
    return Error(Code::kInvalidArgument, "step must be at least 1");
  }
  return *step;
}

// The first and last value of an item's range part ("*", "v" or "a-b").
struct Range {
  int first = 0;
  int last = 0;
  bool star = false;
  bool single = false;  // one value: with a step, "a/n" runs to the max
};

Result<Range> ParseRange(std::string_view text, std::string_view item,
                         const FieldSpec& spec) {
  if (text == "*" || text == "?") return Range{spec.min, spec.max, true};
  if (text.starts_with('*') || text.starts_with('?')) {
    return Error(Code::kInvalidArgument, Quote(item) +
                                             ": a range cannot start with " +
                                             Quote(text.substr(0, 1)));
  }
  const size_t dash = text.find('-');
  Result<int> first = ParseValue(text.substr(0, dash), item, spec);
  if (!first.ok()) return first.status();
  CONCH_RETURN_IF_ERROR(CheckBounds(*first, spec));
  if (dash == std::string_view::npos) return Range{*first, *first, false, true};
  std::string_view rest = text.substr(dash + 1);
  if (rest.find('-') != std::string_view::npos) {
    return Error(Code::kInvalidArgument, "too many \"-\" in " + Quote(item));
  }
  Result<int> last = ParseValue(rest, item, spec);
  if (!last.ok()) return last.status();
  CONCH_RETURN_IF_ERROR(CheckBounds(*last, spec));
  if (*first > *last) {
    return Error(Code::kInvalidArgument,
                 "range " + Quote(text) + " runs backwards (" +
                     std::to_string(*first) + " is after " +
                     std::to_string(*last) + ")");
  }
  return Range{*first, *last};
}

// Adds one list item ("*", "v", "a-b", each with an optional "/n").
Status AddItem(std::string_view item, const FieldSpec& spec, FieldBits* out) {
  if (item.empty()) return Error(Code::kInvalidArgument, "empty list item");
  const size_t slash = item.find('/');
  Result<Range> range = ParseRange(item.substr(0, slash), item, spec);
  if (!range.ok()) return range.status();
  int step = 1;
  if (slash != std::string_view::npos) {
    std::string_view step_text = item.substr(slash + 1);
    if (step_text.find('/') != std::string_view::npos) {
      return Error(Code::kInvalidArgument, "too many \"/\" in " + Quote(item));
    }
    Result<int> parsed = ParseStep(step_text, item);
    if (!parsed.ok()) return parsed.status();
    step = *parsed;
    if (range->single) range->last = spec.max;
  }
  for (int v = range->first; v <= range->last; v += step) {
    out->bits |= uint64_t{1} << v;
  }
  out->star = out->star || (range->star && step == 1);
  out->pattern = out->pattern || range->star || slash != std::string_view::npos;
  return Status::Ok();
}

Result<FieldBits> ParseField(std::string_view text, const FieldSpec& spec) {
  FieldBits out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    Status added = AddItem(text.substr(start, comma - start), spec, &out);
    if (!added.ok()) {
      return added.With(std::string(spec.name) + " (field " +
                        std::to_string(spec.number) + ") " + Quote(text));
    }
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  const std::string_view kSpace = " \t\r\n\v\f";
  std::vector<std::string_view> out;
  size_t pos = text.find_first_not_of(kSpace);
  while (pos != std::string_view::npos) {
    size_t end = text.find_first_of(kSpace, pos);
    out.push_back(text.substr(pos, end - pos));
    pos = text.find_first_not_of(kSpace, end);
  }
  return out;
}

// With a restricted day of month and a "*" day of week, only the day of
// month picks days, and it may pick none that the listed months have.
// This is the one way five valid fields can never match (robfig's Next
// then returns the zero time, and the original's conchd spun on it).
Status CheckSatisfiable(const CronFields& f,
                        const std::vector<std::string_view>& texts) {
  if (f.dom_star || !f.dow_star) return Status::Ok();
  for (int month = 1; month <= 12; ++month) {
    if ((f.months >> month & 1) == 0) continue;
    const uint64_t days_in_month = (uint64_t{1} << (kMaxDays[month] + 1)) - 2;
    if ((f.days_of_month & days_in_month) != 0) return Status::Ok();
  }
  return Error(Code::kInvalidArgument,
               "day of month (field 3) " + Quote(texts[2]) +
                   " never falls in month (field 4) " + Quote(texts[3]));
}

// The index of the first set bit at or above `from`, or -1.
int NextBit(uint64_t bits, int from) {
  if (from >= 64) return -1;
  const uint64_t rest = bits >> from;
  if (rest == 0) return -1;
  return from + std::countr_zero(rest);
}

int CronWeekday(absl::CivilDay day) {
  // absl numbers Monday 0 .. Sunday 6; cron numbers Sunday 0 .. Saturday 6.
  return (static_cast<int>(absl::GetWeekday(day)) + 1) % 7;
}

}  // namespace

Result<CronFields> ParseCronFields(std::string_view text) {
  const std::vector<std::string_view> texts = SplitFields(text);
  if (texts.size() != 5) {
    return Error(Code::kInvalidArgument,
                 "expected 5 fields (minute hour day-of-month month "
                 "day-of-week), found " +
                     std::to_string(texts.size()));
  }
  Result<FieldBits> minute = ParseField(texts[0], kMinute);
  if (!minute.ok()) return minute.status();
  Result<FieldBits> hour = ParseField(texts[1], kHour);
  if (!hour.ok()) return hour.status();
  Result<FieldBits> dom = ParseField(texts[2], kDayOfMonth);
  if (!dom.ok()) return dom.status();
  Result<FieldBits> month = ParseField(texts[3], kMonth);
  if (!month.ok()) return month.status();
  Result<FieldBits> dow = ParseField(texts[4], kDayOfWeek);
  if (!dow.ok()) return dow.status();

  CronFields f;
  f.minutes = minute->bits;
  f.hours = static_cast<uint32_t>(hour->bits);
  f.days_of_month = static_cast<uint32_t>(dom->bits);
  f.months = static_cast<uint16_t>(month->bits);
  f.days_of_week = static_cast<uint8_t>(dow->bits);
  f.dom_star = dom->star;
  f.dow_star = dow->star;
  f.fixed_hour = !hour->pattern;
  CONCH_RETURN_IF_ERROR(CheckSatisfiable(f, texts));
  return f;
}

std::optional<CronFields> DescriptorFields(std::string_view descriptor) {
  std::string_view equivalent;
  if (descriptor == "@yearly" || descriptor == "@annually") {
    equivalent = "0 0 1 1 *";
  } else if (descriptor == "@monthly") {
    equivalent = "0 0 1 * *";
  } else if (descriptor == "@weekly") {
    equivalent = "0 0 * * 0";
  } else if (descriptor == "@daily" || descriptor == "@midnight") {
    equivalent = "0 0 * * *";
  } else if (descriptor == "@hourly") {
    equivalent = "0 * * * *";
  } else {
    return std::nullopt;
  }
  Result<CronFields> fields = ParseCronFields(equivalent);
  CONCH_CHECK(fields.ok());
  return *fields;
}

bool DayMatches(const CronFields& f, absl::CivilDay day) {
  if ((f.months >> day.month() & 1) == 0) return false;
  const bool dom = (f.days_of_month >> day.day() & 1) != 0;
  const bool dow = (f.days_of_week >> CronWeekday(day) & 1) != 0;
  if (f.dom_star || f.dow_star) return dom && dow;
  return dom || dow;
}

bool Matches(const CronFields& f, absl::CivilSecond local) {
  return local.second() == 0 && (f.minutes >> local.minute() & 1) != 0 &&
         (f.hours >> local.hour() & 1) != 0 &&
         DayMatches(f, absl::CivilDay(local));
}

std::optional<absl::CivilMinute> NextMatch(const CronFields& f,
                                           absl::CivilSecond after) {
  // Each step either returns or moves `m` forward to the start of the next
  // month, day or hour that could match, so the loop ends within the
  // horizon.
  constexpr absl::civil_year_t kHorizonYears = 10;
  absl::CivilMinute m = absl::CivilMinute(after) + 1;
  const absl::civil_year_t last_year = m.year() + kHorizonYears;
  while (m.year() <= last_year) {
    const absl::CivilDay day(m);
    if ((f.months >> m.month() & 1) == 0) {
      m = absl::CivilMinute(absl::CivilMonth(m) + 1);
      continue;
    }
    if (!DayMatches(f, day)) {
      m = absl::CivilMinute(day + 1);
      continue;
    }
    const int hour = NextBit(f.hours, m.hour());
    if (hour < 0) {
      m = absl::CivilMinute(day + 1);
      continue;
    }
    if (hour != m.hour()) m = absl::CivilMinute(absl::CivilHour(day) + hour);
    const int minute = NextBit(f.minutes, m.minute());
    if (minute < 0) {
      m = absl::CivilMinute(absl::CivilHour(m) + 1);
      continue;
    }
    return absl::CivilMinute(absl::CivilHour(m)) + minute;
  }
  return std::nullopt;
}

}  // namespace conch::cron
