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
//  - RefuseContainers(true) makes a ZooKeeper 3.8 server behind the proxy
//    look older than 3.5, which has no container nodes: a container create
//    never reaches it, and the client gets what a 3.4 server answers (see
//    the method).
// The proxy accepts any number of connections and connects each to the
// target. It stands for a network path, not an HTTP/2 peer: it forwards
// bytes and knows nothing of gRPC; it reads ZooKeeper's framing only on
// connections accepted while RefuseContainers is on.
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

  // While on, each connection accepted is read as ZooKeeper's client
  // protocol, in both directions: frames of a 4-byte big-endian length and
  // that many bytes, the first of each direction the handshake
  // (ConnectRequest, ConnectResponse), every later request opening with
  // {int32 xid, int32 type}. A request of type 19 (createContainer) is not
  // forwarded: the client gets the reply frame {int32 xid (the request's),
  // int64 zxid -1, int32 err -6 (UNIMPLEMENTED)}, and the connection is
  // then closed both ways (to the client once that reply is written), as
  // ZooKeeper 3.4.6 to 3.4.14 do (UnimplementedRequestProcessor). The
  // server sees a client that went away, so the session survives and the
  // client may reconnect to it. Requests the client sent before still
  // reach the server, and replies the server sent before, in full, still
  // reach the client, ahead of the refusal; a reply the server had not
  // sent yet never comes, and the refusal overtakes it, as 3.4 answers an
  // unknown type at once, outside its request pipeline (the C client then
  // drops the connection: "unexpected server response", and fails every
  // pending request, the create too, with ZRUNTIMEINCONSISTENCY). Every
  // other frame passes unchanged and in order; frames may arrive split
  // across reads. A frame length above 16 MiB or below 0 means the stream
  // is not ZooKeeper's: that connection is a plain byte pipe from then on.
  // The mode is fixed for each connection when it is accepted (framing must
  // start at its first byte): turning it on or off leaves open connections
  // as they are. Off by default. A multi (type 14) holding a container
  // create passes through.
  void RefuseContainers(bool on);
  // Container creates refused so far, on every connection.
  int refused_containers() const;

 private:
  struct State;
  TcpProxy(int port, std::unique_ptr<State> state);
  void Run();

  const int port_;
  std::unique_ptr<State> state_;
};

}  // namespace conch::testing
