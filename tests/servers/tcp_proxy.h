// TcpProxy: a TCP forwarder on 127.0.0.1 that a test puts between a client
// (conch) and a store, to inject real network faults and to see when bytes
// crossed it:
//  - Hold(kToServer/kToClient) stops forwarding one way; what the sender
//    writes waits in the kernel's socket buffers, as with a frozen peer.
//    Release() lets it through. Holding both ways is a frozen store that
//    keeps its connections open.
//  - CutAll() closes every connection at once (the client sees a reset).
//  - LastForward() and AwaitForward() tell when bytes last went one way, so
//    a test can tell the time a request was sent from the time its answer
//    arrived.
// The proxy accepts any number of connections and connects each to the
// target. It stands for a network path, not an HTTP/2 peer: it forwards
// bytes and knows nothing of gRPC.
//
// Thread contract: every method is safe from any thread. The proxy runs its
// own thread, stopped and joined by the destructor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace conch::testing {

class TcpProxy final {
 public:
  enum class Direction { kToServer, kToClient };
  using Time = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  // Listens on a free port of 127.0.0.1 and forwards to `target`
  // ("host:port", an IPv4 address). Returns nullptr and sets *error on
  // failure.
  static std::unique_ptr<TcpProxy> Start(const std::string& target,
                                         std::string* error);
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;
  // Stops the thread and closes every socket.
  ~TcpProxy();

  // "127.0.0.1:<port>", where clients connect.
  std::string endpoint() const;
  int port() const { return port_; }

  void Hold(Direction d);
  void Release(Direction d);
  // Closes every open connection; new ones are still accepted.
  void CutAll();

  // When bytes were last written towards `d`'s receiver, on the steady
  // and on the wall clock; nullopt if never.
  std::optional<Time> LastForward(Direction d) const;
  std::optional<WallTime> LastForwardWall(Direction d) const;
  // Blocks until bytes are forwarded towards `d` at or after `after`, at
  // most `timeout`. Returns the time of that forward, or nullopt.
  std::optional<Time> AwaitForward(Direction d, Time after,
                                   std::chrono::milliseconds timeout) const;
  // Connections accepted so far.
  int accepted() const;

 private:
  struct State;
  TcpProxy(int port, std::unique_ptr<State> state);
  void Run();

  const int port_;
  std::unique_ptr<State> state_;
};

}  // namespace conch::testing
