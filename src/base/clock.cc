#include "base/clock.h"

#include <time.h>

namespace conch {

std::string UtcNowRfc3339() {
  time_t now = ::time(nullptr);
  struct tm tm_utc;
  ::gmtime_r(&now, &tm_utc);
  char buf[32];
  ::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buf;
}

}  // namespace conch
