// conch_tcp_proxy: TcpProxy for shell tests. Usage:
//   conch_tcp_proxy <target host:port>
// Prints "port <n>" once listening, then reads one command a line on stdin
// and answers each with one line on stdout:
//   hold up|down|both      stop forwarding (up: to the server, down: back)
//   release up|down|both   forward again
//   cut                    reset every open connection
//   last up|down           wall-clock time in ms since the epoch of the
//                          last bytes forwarded that way, or "never"
//   accepted               connections accepted so far
//   containers refuse|allow
//                          whether connections accepted from now on act as
//                          a ZooKeeper server older than 3.5: a container
//                          create is answered UNIMPLEMENTED and its
//                          connection closed (TcpProxy::RefuseContainers)
//   refused                container creates refused so far
// Answers "ok" to hold, release, cut and containers, and "error: <why>" to
// anything else. Exits when stdin closes.
#include <chrono>
#include <iostream>
#include <string>

#include "servers/tcp_proxy.h"

namespace {

using conch::testing::TcpProxy;

// Applies `f` to the directions `which` names; false if it names none.
template <typename F>
bool ForEach(const std::string& which, F f) {
  if (which == "up" || which == "both") f(TcpProxy::Direction::kToServer);
  if (which == "down" || which == "both") f(TcpProxy::Direction::kToClient);
  return which == "up" || which == "down" || which == "both";
}

std::string Answer(TcpProxy& proxy, const std::string& line) {
  size_t space = line.find(' ');
  std::string verb = line.substr(0, space);
  std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
  if (verb == "hold" || verb == "release") {
    bool ok = ForEach(arg, [&](TcpProxy::Direction d) {
      if (verb == "hold") {
        proxy.Hold(d);
      } else {
        proxy.Release(d);
      }
    });
    return ok ? "ok" : "error: say up, down or both";
  }
  if (verb == "cut") {
    proxy.CutAll();
    return "ok";
  }
  if (verb == "last" && (arg == "up" || arg == "down")) {
    auto t =
        proxy.LastForwardWall(arg == "up" ? TcpProxy::Direction::kToServer
                                          : TcpProxy::Direction::kToClient);
    if (!t) return "never";
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                              t->time_since_epoch())
                              .count());
  }
  if (verb == "accepted") return std::to_string(proxy.accepted());
  if (verb == "containers") {
    if (arg != "refuse" && arg != "allow") return "error: say refuse or allow";
    proxy.RefuseContainers(arg == "refuse");
    return "ok";
  }
  if (verb == "refused") return std::to_string(proxy.refused_containers());
  return "error: unknown command \"" + line + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: conch_tcp_proxy <target host:port>\n";
    return 64;
  }
  std::string error;
  std::unique_ptr<TcpProxy> proxy = TcpProxy::Start(argv[1], &error);
  if (!proxy) {
    std::cerr << "conch_tcp_proxy: " << error << "\n";
    return 1;
  }
  std::cout << "port " << proxy->port() << std::endl;
  for (std::string line; std::getline(std::cin, line);) {
    std::cout << Answer(*proxy, line) << std::endl;
  }
  return 0;
}
