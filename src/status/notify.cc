#include "status/notify.h"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>

namespace conch::status {

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
}

conch::Status SystemdNotifier::Send(const std::string& message) const {
  if (!enabled_) return conch::Status::Ok();
  // unset_environment = 0: later messages need NOTIFY_SOCKET too. 0 means
  // it was unset since the constructor looked: nobody listens any more.
  int rc = sd_notify(0, message.c_str());
  if (rc >= 0) return conch::Status::Ok();
  return Error(Code::kUnavailable,
               "notify systemd: " + message + ": " + ErrnoString(-rc));
}

conch::Status SystemdNotifier::Ready() const { return Send("READY=1"); }

conch::Status SystemdNotifier::Status(std::string_view text) const {
  std::string message = "STATUS=";
  for (char c : text) message += c == '\n' ? ' ' : c;
  return Send(message);
}

conch::Status SystemdNotifier::Stopping() const { return Send("STOPPING=1"); }

conch::Status SystemdNotifier::Watchdog() const { return Send("WATCHDOG=1"); }

std::optional<Duration> SystemdNotifier::WatchdogInterval() const {
  if (!enabled_) return std::nullopt;
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is ours.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

}  // namespace conch::status
