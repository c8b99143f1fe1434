#include "backend/etcd/endpoints.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>

#include "base/strings.h"

namespace conch::backend {

namespace {

std::string Where(const std::string& endpoint) {
  return "endpoint " + Quote(endpoint);
}

// A host name or address: no separators, brackets (beyond the pair around
// an IPv6 address), spaces or control bytes, which would only fail later,
// and less clearly, in name resolution.
bool PlausibleHost(const std::string& host) {
  for (char c : host) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == ' ' || c == '[' || c == ']' || u < 0x20 || u == 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<HostPort> ParseEndpoint(const std::string& endpoint, int default_port) {
  std::string rest = endpoint;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  if (rest.rfind("etcd://", 0) == 0) rest = rest.substr(7);
  if (rest.rfind("https://", 0) == 0) {
    return Error(Code::kInvalidArgument,
                 Where(endpoint) + ": TLS is not supported");
  }
  if (rest.find("://") != std::string::npos || rest.empty()) {
    return Error(Code::kInvalidArgument, Where(endpoint) + ": want host:port");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty()) {
    return Error(Code::kInvalidArgument, Where(endpoint) + ": want host:port");
  }
  HostPort hp;
  std::string port_text;
  if (rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) {
      return Error(Code::kInvalidArgument, Where(endpoint) + ": unclosed '['");
    }
    hp.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') {
        return Error(Code::kInvalidArgument,
                     Where(endpoint) + ": want [addr]:port");
      }
      port_text = rest.substr(close + 2);
    }
  } else {
    size_t colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find(':') != colon) {
      return Error(Code::kInvalidArgument,
                   Where(endpoint) + ": write IPv6 as [addr]:port");
    }
    hp.host = rest.substr(0, colon);
    if (colon != std::string::npos) port_text = rest.substr(colon + 1);
  }
  hp.port = default_port;
  if (!port_text.empty() || rest.back() == ':') {
    int port = 0;
    auto [p, ec] = std::from_chars(port_text.data(),
                                   port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() ||
        port < 1 || port > 65535) {
      return Error(Code::kInvalidArgument,
                   Where(endpoint) + ": bad port " + Quote(port_text));
    }
    hp.port = port;
  }
  if (!hp.host.empty() && !PlausibleHost(hp.host)) {
    return Error(Code::kInvalidArgument,
                 Where(endpoint) + ": want host:port, without a path");
  }
  if (hp.host.empty()) {
    return Error(Code::kInvalidArgument, Where(endpoint) + ": empty host");
  }
  return hp;
}

Result<std::string> ResolveTarget(const std::vector<std::string>& endpoints) {
  std::vector<std::string> v4;
  std::vector<std::string> v6;
  for (const std::string& endpoint : endpoints) {
    Result<HostPort> hp = ParseEndpoint(endpoint);
    if (!hp.ok()) return hp.status();
    struct addrinfo hints = {};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    struct addrinfo* res = nullptr;
    std::string port = std::to_string(hp->port);
    int rc = ::getaddrinfo(hp->host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
      return Error(Code::kInvalidArgument,
                   Where(endpoint) + ": " + gai_strerror(rc));
    }
    for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      char buf[INET6_ADDRSTRLEN];
      if (ai->ai_family == AF_INET) {
        auto* sin = reinterpret_cast<struct sockaddr_in*>(ai->ai_addr);
        ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
        std::string addr = std::string(buf) + ":" + port;
        if (std::find(v4.begin(), v4.end(), addr) == v4.end())
          v4.push_back(addr);
      } else if (ai->ai_family == AF_INET6) {
        auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(ai->ai_addr);
        ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
        std::string addr = "[" + std::string(buf) + "]:" + port;
        if (std::find(v6.begin(), v6.end(), addr) == v6.end())
          v6.push_back(addr);
      }
    }
    ::freeaddrinfo(res);
  }
  const std::vector<std::string>& chosen = v4.empty() ? v6 : v4;
  if (chosen.empty()) {
    return Error(Code::kInvalidArgument, "no usable endpoint address");
  }
  std::string target = v4.empty() ? "ipv6:" : "ipv4:";
  for (size_t i = 0; i < chosen.size(); ++i) {
    if (i > 0) target += ",";
    target += chosen[i];
  }
  return target;
}

}  // namespace conch::backend
