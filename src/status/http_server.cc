#include "status/http_server.h"

#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <exception>
#include <map>
#include <string_view>
#include <thread>

#include "base/log.h"
#include "base/strings.h"

namespace conch::status {
namespace {

// conchd stays light: two threads serve, so a third client waits its turn.
constexpr size_t kServingThreads = 2;
// A client that stalls holds a serving thread this long at most, per read
// or write.
constexpr time_t kIoTimeoutSeconds = 2;
// An idle kept-alive connection holds one this long: enough for a browser's
// next request, not for a scraper's (Prometheus scrapes seconds apart).
// The destructor waits it out, since httplib checks for a stop only
// between requests.
constexpr time_t kKeepAliveSeconds = 1;
constexpr size_t kKeepAliveRequests = 10;
// Nothing here reads a body; one sent with another method is read (to keep
// the connection in step) up to this much, and answered 413 beyond.
constexpr size_t kMaxBodyBytes = 64 * 1024;

constexpr const char* kTextType = "text/plain; charset=utf-8";

// One line of plain text: the body of every error.
void SetLine(httplib::Response& res, int status, std::string_view line) {
  res.status = status;
  std::string body(line);
  for (char& c : body) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  res.set_content(body + "\n", kTextType);
}

std::string_view Reason(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "page not found";
    case 405:
      return "method not allowed";
    case 413:
      return "request body too large";
    case 414:
      return "request uri too long";
    case 416:
      return "range not satisfiable";
    case 500:
      return "internal server error";
    default:
      return "error";
  }
}

// Runs a route's handler. This is the one place conch catches: handlers
// build JSON with a library that throws (nlohmann::json on bad input,
// std::bad_alloc anywhere), and what they throw must become a 500 here, on
// the serving thread, rather than a 500 without its message from httplib.
void Serve(const std::function<Response()>& handler, httplib::Response& res) {
  Response out;
  try {
    out = handler();
  } catch (const std::exception& e) {
    SetLine(res, 500, std::string("internal error: ") + e.what());
    return;
  } catch (...) {
    SetLine(res, 500, "internal error: unknown exception");
    return;
  }
  res.status = out.status;
  res.set_content(out.body, out.content_type);
}

using AddrInfoPtr = std::unique_ptr<addrinfo, decltype(&freeaddrinfo)>;

// The numeric address to bind for `host`: itself when it is one; else one
// address the name resolves to, the first IPv4 one if any, as Go picks it.
Result<std::string> NumericHost(const std::string& addr,
                                const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) == 0) {
    AddrInfoPtr owned(found, &freeaddrinfo);
    return host;
  }
  hints.ai_flags = 0;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? ErrnoString(errno) : gai_strerror(rc);
    return Error(Code::kUnavailable,
                 "status server: listen on " + addr + ": " + why);
  }
  AddrInfoPtr owned(found, &freeaddrinfo);
  const addrinfo* pick = found;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      pick = ai;
      break;
    }
  }
  char numeric[NI_MAXHOST];
  rc = getnameinfo(pick->ai_addr, pick->ai_addrlen, numeric, sizeof(numeric),
                   nullptr, 0, NI_NUMERICHOST);
  if (rc != 0) {
    return Error(Code::kUnavailable,
                 "status server: listen on " + addr + ": " + gai_strerror(rc));
  }
  return std::string(numeric);
}

}  // namespace

Result<ListenAddress> ParseListenAddress(const std::string& addr) {
  auto bad = [&](const std::string& why) {
    return Error(Code::kInvalidArgument,
                 "status server: bad address " + Quote(addr) + ": " + why);
  };
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return bad("missing port");
  std::string_view host = std::string_view(addr).substr(0, colon);
  std::string_view port = std::string_view(addr).substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3) return bad("bad brackets");
    host = host.substr(1, host.size() - 2);
    if (host.find_first_of("[]") != std::string_view::npos) {
      return bad("bad brackets");
    }
  } else if (host.find(':') != std::string_view::npos) {
    return bad("too many colons (an IPv6 address goes in brackets)");
  } else if (host.find_first_of("[]") != std::string_view::npos) {
    return bad("bad brackets");
  }
  ListenAddress out;
  out.host = std::string(host);
  if (port.empty()) return out;  // as in Go: any free port
  if (port.find_first_not_of("0123456789") != std::string_view::npos ||
      port.size() > 5) {
    return bad("port is not a number from 0 to 65535");
  }
  std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (out.port > 65535) return bad("port is not a number from 0 to 65535");
  return out;
}

// The httplib server, its routes and the thread that accepts.
class StatusServer::Impl {
 public:
  explicit Impl(std::vector<Route> routes);
  // Binds `host` (numeric; "" = every interface) and `port`; returns the
  // port bound.
  Result<int> Bind(const std::string& addr, const std::string& host, int port);
  // Starts accepting on a thread of ours; returns once it does.
  void Run();
  // Stops accepting and joins every thread.
  void Stop();

 private:
  // Binds one numeric address; the errno of a failure in *err.
  int BindOnce(const std::string& host, int port, int* err);

  // Read-only once the server runs, so the serving threads share it
  // without a lock.
  const std::map<std::string, std::function<Response()>> routes_;
  httplib::Server server_;
  std::atomic<bool> accepting_done_{false};
  std::jthread acceptor_;
};

namespace {

std::map<std::string, std::function<Response()>> RouteTable(
    std::vector<Route> routes) {
  std::map<std::string, std::function<Response()>> table;
  for (Route& route : routes) table[route.path] = std::move(route.handler);
  return table;
}

}  // namespace

StatusServer::Impl::Impl(std::vector<Route> routes)
    : routes_(RouteTable(std::move(routes))) {
  // httplib takes ownership of the queue it is handed.
  server_.new_task_queue = [] {
    return new httplib::ThreadPool(kServingThreads);
  };
  server_.set_read_timeout(kIoTimeoutSeconds);
  server_.set_write_timeout(kIoTimeoutSeconds);
  server_.set_keep_alive_timeout(kKeepAliveSeconds);
  server_.set_keep_alive_max_count(kKeepAliveRequests);
  server_.set_payload_max_length(kMaxBodyBytes);
  // httplib's default sets SO_REUSEPORT, with which a second server binds
  // the same port and the two share its connections. SO_REUSEADDR only
  // lets a restart bind while old connections linger in TIME_WAIT.
  server_.set_socket_options([](int fd) {
    int yes = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });

  // GET and HEAD: httplib routes both here and leaves HEAD's body out.
  server_.Get(".*",
              [this](const httplib::Request& req, httplib::Response& res) {
                auto route = routes_.find(req.path);
                if (route == routes_.end()) {
                  SetLine(res, 404, "404 page not found");
                } else {
                  Serve(route->second, res);
                }
              });
  auto refuse = [this](const httplib::Request& req, httplib::Response& res) {
    if (routes_.count(req.path) == 0) {
      SetLine(res, 404, "404 page not found");
      return;
    }
    SetLine(res, 405, "405 method not allowed");
    res.set_header("Allow", "GET, HEAD");
  };
  server_.Post(".*", refuse);
  server_.Put(".*", refuse);
  server_.Patch(".*", refuse);
  server_.Delete(".*", refuse);
  server_.Options(".*", refuse);
  // Methods httplib parses but has no routes for (TRACE, CONNECT), before
  // it would answer them 400. They carry no body to read.
  server_.set_pre_routing_handler(
      [refuse](const httplib::Request& req, httplib::Response& res) {
        static constexpr std::string_view kRouted[] = {
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
        for (std::string_view method : kRouted) {
          if (req.method == method) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
        }
        refuse(req, res);
        return httplib::Server::HandlerResponse::Handled;
      });
  // What httplib answers by itself (400, 413, 414...) gets a line too.
  server_.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        SetLine(
            res, res.status,
            std::to_string(res.status) + " " + std::string(Reason(res.status)));
        return httplib::Server::HandlerResponse::Handled;
      }));
}

int StatusServer::Impl::BindOnce(const std::string& host, int port, int* err) {
  // httplib reports a failed bind only as such; the errno of the bind() or
  // listen() that failed survives its close() of the socket. The host is
  // numeric, so no resolver runs to overwrite it.
  errno = 0;
  int bound = -1;
  if (port == 0) {
    bound = server_.bind_to_any_port(host, AI_NUMERICHOST);
  } else if (server_.bind_to_port(host, port, AI_NUMERICHOST)) {
    bound = port;
  }
  *err = errno;
  return bound;
}

Result<int> StatusServer::Impl::Bind(const std::string& addr,
                                     const std::string& host, int port) {
  int err = 0;
  int bound = -1;
  if (host.empty()) {
    // Every interface: "::" takes IPv4 too (httplib clears IPV6_V6ONLY);
    // a kernel without IPv6 gets "0.0.0.0".
    bound = BindOnce("::", port, &err);
    if (bound < 0 && (err == EAFNOSUPPORT || err == EADDRNOTAVAIL)) {
      bound = BindOnce("0.0.0.0", port, &err);
    }
  } else {
    bound = BindOnce(host, port, &err);
  }
  if (bound >= 0) return bound;
  return Error(Code::kUnavailable,
               "status server: listen on " + addr + ": " +
                   (err != 0 ? ErrnoString(err) : "cannot bind"));
}

void StatusServer::Impl::Run() {
  acceptor_ = std::jthread([this] {
    if (!server_.listen_after_bind()) {
      LogWarn("status server: accepting connections failed; not serving");
    }
    accepting_done_ = true;
  });
  // httplib says when it accepts only through is_running(); Stop() before
  // that moment would be lost, so wait for it (it comes at once).
  while (!server_.is_running() && !accepting_done_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void StatusServer::Impl::Stop() {
  server_.stop();
  if (acceptor_.joinable()) acceptor_.join();
}

StatusServer::StatusServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

StatusServer::~StatusServer() { impl_->Stop(); }

Result<std::unique_ptr<StatusServer>> StatusServer::Start(
    const std::string& addr, std::vector<Route> routes) {
  Result<ListenAddress> listen = ParseListenAddress(addr);
  if (!listen.ok()) return listen.status();
  std::string host = listen->host;
  if (!host.empty()) {
    Result<std::string> numeric = NumericHost(addr, host);
    if (!numeric.ok()) return numeric.status();
    host = std::move(*numeric);
  }
  auto impl = std::make_unique<Impl>(std::move(routes));
  Result<int> port = impl->Bind(addr, host, listen->port);
  if (!port.ok()) return port.status();
  impl->Run();
  return std::unique_ptr<StatusServer>(
      new StatusServer(std::move(impl), *port));
}

}  // namespace conch::status
