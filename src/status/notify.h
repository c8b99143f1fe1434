// SystemdNotifier: tells systemd how conchd is doing, through libsystemd's
// sd_notify: READY=1 once it serves, STATUS=<text> for `systemctl status`,
// STOPPING=1 when it begins to stop, and WATCHDOG=1 pings when the unit
// has WatchdogSec=.
//
// systemd passes the socket in NOTIFY_SOCKET (and the watchdog in
// WATCHDOG_USEC and WATCHDOG_PID); without it, as when conchd runs outside
// systemd, every call does nothing and succeeds. The variables stay in the
// environment (children inherit them; systemd's default NotifyAccess=main
// ignores messages from them).
//
// Thread contract: safe from any thread, provided nothing changes the
// environment meanwhile (sd_notify reads it at every call).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace conch::status {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET once; a socket is opened for each message.
  SystemdNotifier();

  // Whether systemd listens (NOTIFY_SOCKET is set and not empty).
  bool enabled() const { return enabled_; }

  // Each sends one datagram; it blocks only while systemd's receive queue
  // is full. kUnavailable when it cannot be sent (the socket is gone, or
  // refuses us): systemd then does not learn it, and nothing else changes.
  conch::Status Ready() const;
  // STATUS=<text>; `text` is one line: newlines become spaces.
  conch::Status Status(std::string_view text) const;
  conch::Status Stopping() const;
  conch::Status Watchdog() const;

  // How often to call Watchdog(): half the unit's WatchdogSec=, so that a
  // ping late by a whole period still comes in time. nullopt when there is
  // no watchdog for this process (WATCHDOG_PID names another) or
  // notification is not enabled.
  std::optional<Duration> WatchdogInterval() const;

 private:
  conch::Status Send(const std::string& message) const;

  bool enabled_ = false;
};

}  // namespace conch::status
