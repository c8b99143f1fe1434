// libFuzzer target for the records of the distributed cron as they are
// read from the store (cron/job.h): a job, a result, a claim and a tick's
// record name, any of which a hand-written key or an older or newer conch
// can hold. The input is split on its first NUL byte into a record name and
// a record value:
//   <name> NUL <value>
// (an input without a NUL is all value, under the name "job"). Beyond "no
// crash, no sanitizer report, no hang", it checks:
//   - ValidateJobName: an error obeys the error contract; a name it accepts
//     has 1..128 bytes, no '/', space or control byte, is not "." or "..",
//     and is the last segment of its JobKey.
//   - DecodeJob(name, value): an error is kInvalidArgument with a one-line
//     message naming the job ("job \"<name>\": ..."). A decoded job has the
//     name, a command, a run TTL and schedule that JobRunTtl and
//     JobSchedule accept, and durations that are not negative; EncodeJob
//     writes the original's five fields first and in its order, and the
//     encoding decodes to an equal job (field by field) that encodes to
//     the same text.
//   - DecodeResult(value): a decoded result encodes to text that decodes to
//     the same fields (a "missed" or "rev" that is not positive is not
//     written and reads back as 0), and, as the duration is kept to 0.1 s,
//     encoding is a fixed point: Encode(Decode(Encode(r))) == Encode(r).
//   - DecodeClaim(value): no crash; a decoded claim, encoded again, decodes
//     to the same host, pid and session.
//   - ParseTickName(name): a name it accepts is 10 digits without a leading
//     zero and is TickName of the tick; each such name is accepted.
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "base/strings.h"
#include "cron/job.h"

namespace conch {
namespace {

using cron::Job;
using cron::RunResult;

struct Record {
  std::string_view name;
  std::string_view value;
};

Record Split(std::string_view input) {
  const size_t nul = input.find('\0');
  if (nul == std::string_view::npos) return {"job", input};
  return {input.substr(0, nul), input.substr(nul + 1)};
}

void CheckJobName(std::string_view name) {
  Status valid = cron::ValidateJobName(name);
  if (!valid.ok()) {
    fuzz::CheckUserError(valid);
    return;
  }
  CONCH_CHECK(!name.empty() && name.size() <= 128);
  CONCH_CHECK(name != "." && name != "..");
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    CONCH_CHECK(c != '/' && c != ' ' && byte >= 0x20 && byte != 0x7F);
  }
  CONCH_CHECK(cron::LastSegment(cron::JobKey(name)) == name);
}

bool SameJob(const Job& a, const Job& b) {
  return a.name == b.name && a.schedule == b.schedule && a.cmd == b.cmd &&
         a.run_ttl == b.run_ttl && a.added_by == b.added_by &&
         a.added_at == b.added_at && a.overlap == b.overlap &&
         a.missed == b.missed && a.starting_deadline == b.starting_deadline &&
         a.kill_after == b.kill_after && a.tags == b.tags &&
         a.hosts == b.hosts && a.paused == b.paused &&
         a.resumed_at == b.resumed_at && a.run_requested == b.run_requested;
}

// The original reads these five, in this order, from every job.
void CheckOriginalFieldsFirst(const std::string& encoded) {
  const nlohmann::ordered_json j =
      nlohmann::ordered_json::parse(encoded, nullptr, false);
  CONCH_CHECK(!j.is_discarded() && j.is_object() && j.size() >= 5);
  constexpr std::array<const char*, 5> kOriginal = {
      "schedule", "cmd", "run_ttl", "added_by", "added_at"};
  auto it = j.begin();
  for (const char* key : kOriginal) {
    CONCH_CHECK(it.key() == key);
    ++it;
  }
}

void CheckJob(const Record& r) {
  Result<Job> job = cron::DecodeJob(r.name, r.value);
  if (!job.ok()) {
    fuzz::CheckUserError(job.status());
    CONCH_CHECK(
        job.status().message().starts_with("job " + Quote(r.name) + ": "));
    return;
  }
  CONCH_CHECK(job->name == r.name);
  CONCH_CHECK(!job->cmd.empty());
  CONCH_CHECK(!job->run_ttl.empty());
  Result<Duration> ttl = cron::JobRunTtl(*job);
  CONCH_CHECK(ttl.ok() && *ttl >= Duration::zero());
  CONCH_CHECK(cron::JobSchedule(*job).ok());
  CONCH_CHECK(job->starting_deadline >= Duration::zero());
  CONCH_CHECK(job->kill_after >= Duration::zero());

  const std::string encoded = cron::EncodeJob(*job);
  CheckOriginalFieldsFirst(encoded);
  Result<Job> again = cron::DecodeJob(r.name, encoded);
  CONCH_CHECK(again.ok());
  CONCH_CHECK(SameJob(*again, *job));
  CONCH_CHECK(cron::EncodeJob(*again) == encoded);
}

// The fields EncodeResult keeps: all but the duration, which it rounds,
// with a "missed" and "rev" that are not positive left out (read as 0).
bool SameResult(const RunResult& a, const RunResult& b) {
  auto positive = [](int64_t v) { return v > 0 ? v : 0; };
  return a.node == b.node && a.exit == b.exit && a.started == b.started &&
         a.outcome == b.outcome && a.tick == b.tick &&
         positive(a.missed) == positive(b.missed) && a.reason == b.reason &&
         a.output == b.output && positive(a.rev) == positive(b.rev);
}

void CheckResult(const Record& r) {
  std::optional<RunResult> result = cron::DecodeResult(r.value);
  if (!result) return;
  const std::string encoded = cron::EncodeResult(*result);
  std::optional<RunResult> again = cron::DecodeResult(encoded);
  CONCH_CHECK(again.has_value());
  CONCH_CHECK(SameResult(*again, *result));
  CONCH_CHECK(cron::EncodeResult(*again) == encoded);
}

void CheckClaim(const Record& r) {
  std::optional<cron::Claimer> claim = cron::DecodeClaim(r.value);
  if (!claim) return;
  std::optional<cron::Claimer> again = cron::DecodeClaim(cron::EncodeClaim(
      claim->host, claim->pid, "2026-11-30T03:00:00Z", "", claim->session));
  CONCH_CHECK(again.has_value());
  CONCH_CHECK(again->host == claim->host && again->pid == claim->pid &&
              again->session == claim->session);
}

void CheckTickName(std::string_view name) {
  const bool ten_digits =
      name.size() == 10 && name[0] != '0' &&
      name.find_first_not_of("0123456789") == std::string_view::npos;
  std::optional<absl::Time> tick = cron::ParseTickName(name);
  CONCH_CHECK(tick.has_value() == ten_digits);
  if (tick) CONCH_CHECK(cron::TickName(*tick) == name);
}

void CheckRecords(std::string_view input) {
  const Record r = Split(input);
  CheckJobName(r.name);
  CheckJob(r);
  CheckResult(r);
  CheckClaim(r);
  CheckTickName(r.name);
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conch::CheckRecords(conch::fuzz::AsText(data, size));
  return 0;
}
