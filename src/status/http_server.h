// StatusServer: conchd's read-only HTTP endpoint (/metrics, /elect, /sema
// and the like), over cpp-httplib.
//
// Each route is a path and a handler that builds the whole response. Only
// GET and HEAD are served (HEAD without the body); any other method on a
// known path is answered 405 with "Allow: GET, HEAD", an unknown path 404,
// both with one line of plain text. A handler that throws is answered 500
// with the exception's message. Handlers see no request: what they show
// comes from a snapshot the owner thread publishes (docs/design.md,
// "Threads"), never from the owner's own state.
//
// Thread contract: the server runs on threads of its own, two that serve
// connections (conchd stays light: a third client waits) and one that
// accepts them. Handlers run on the serving threads, possibly two at once,
// and must be safe from any thread. Start() and the destructor belong to
// the owner thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace conch::status {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct Route {
  std::string path;  // matched exactly: "/elect"
  std::function<Response()> handler;
};

class StatusServer {
 public:
  // Listens on `addr`, in Go's ListenAndServe form as the original conchd
  // takes it: "host:port", ":port" (every interface, IPv6 and IPv4),
  // "[::1]:port"; the host may be a name, which is resolved here (and may
  // block for it). Port 0 picks a free port (see port()). Returns once
  // connections are accepted.
  // Errors: kInvalidArgument for a malformed address ("status server: bad
  // address ...: missing port"); kUnavailable when the host does not
  // resolve or the socket cannot be bound, with one line "status server:
  // listen on <addr>: <strerror>" ("Address already in use").
  static Result<std::unique_ptr<StatusServer>> Start(const std::string& addr,
                                                     std::vector<Route> routes);

  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;
  // Stops accepting, and returns once the threads are joined: after the
  // requests in progress are answered (a handler is waited for; a stalled
  // client is cut off by the 2-second read and write timeouts) and idle
  // kept-alive connections have timed out (1 second).
  ~StatusServer();

  // The port bound: the one asked for, or the one chosen for port 0.
  int port() const { return port_; }

 private:
  class Impl;
  StatusServer(std::unique_ptr<Impl> impl, int port);

  std::unique_ptr<Impl> impl_;
  const int port_;
};

// The parts of a listen address; exposed for tests.
struct ListenAddress {
  std::string host;  // "" = every interface; IPv6 without brackets
  int port = 0;
};

// Parses "host:port", ":port", "[v6]:port". The port is decimal, 0 to
// 65535; an empty port is 0 (as in Go). kInvalidArgument naming the
// address and the fault.
Result<ListenAddress> ParseListenAddress(const std::string& addr);

}  // namespace conch::status
