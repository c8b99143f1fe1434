#include "base/clock.h"

#include <time.h>

#include "base/status.h"

namespace conch {

const Clock& SystemClock::Get() {
  static const SystemClock clock;
  return clock;
}

void FakeClock::AdvanceTo(MonoTime t) {
  CONCH_CHECK(t >= now_);
  now_ = t;
}

std::string UtcNowRfc3339() {
  time_t now = ::time(nullptr);
  struct tm tm_utc;
  ::gmtime_r(&now, &tm_utc);
  char buf[32];
  ::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buf;
}

}  // namespace conch
