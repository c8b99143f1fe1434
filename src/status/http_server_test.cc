#include "status/http_server.h"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

#include <gtest/gtest.h>

namespace conch::status {
namespace {

constexpr const char* kText = "text/plain; charset=utf-8";

std::vector<Route> TestRoutes() {
  return {
      {"/elect",
       [] {
         return Response{200, "application/json", "[]"};
       }},
      {"/metrics",
       [] {
         return Response{200, "text/plain; version=0.0.4; charset=utf-8",
                         "up 1\n"};
       }},
      {"/boom",
       []() -> Response { throw std::runtime_error("kaboom\nsecond line"); }},
      {"/unavailable",
       [] {
         return Response{503, "application/json", ""};
       }},
  };
}

class StatusServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<StatusServer>> server =
        StatusServer::Start("127.0.0.1:0", TestRoutes());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_GT(server_->port(), 0);
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(5));
    return client;
  }

  std::unique_ptr<StatusServer> server_;
};

TEST_F(StatusServerTest, ServesRoutesWithTheirContentTypes) {
  httplib::Client client = Client();
  httplib::Result elect = client.Get("/elect");
  ASSERT_TRUE(elect) << httplib::to_string(elect.error());
  EXPECT_EQ(elect->status, 200);
  EXPECT_EQ(elect->body, "[]");
  EXPECT_EQ(elect->get_header_value("Content-Type"), "application/json");

  httplib::Result metrics = client.Get("/metrics?ignored=1");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, "up 1\n");
  EXPECT_EQ(metrics->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
}

TEST_F(StatusServerTest, HeadHasTheHeadersButNoBody) {
  httplib::Result head = Client().Head("/elect");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->get_header_value("Content-Type"), "application/json");
}

TEST_F(StatusServerTest, UnknownPathIs404InOneLine) {
  httplib::Result missing = Client().Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "404 page not found\n");
  EXPECT_EQ(missing->get_header_value("Content-Type"), kText);
  httplib::Result post = Client().Post("/nope", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
}

TEST_F(StatusServerTest, OtherMethodsOnAKnownPathAre405) {
  httplib::Client client = Client();
  std::vector<httplib::Result> replies;
  replies.push_back(client.Post("/elect", "body", "text/plain"));
  replies.push_back(client.Put("/elect", "body", "text/plain"));
  replies.push_back(client.Delete("/elect"));
  replies.push_back(client.Options("/elect"));
  for (const httplib::Result& r : replies) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->body, "405 method not allowed\n");
    EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD");
  }
  httplib::Request trace;
  trace.method = "TRACE";
  trace.path = "/metrics";
  httplib::Result traced = client.send(trace);
  ASSERT_TRUE(traced);
  EXPECT_EQ(traced->status, 405);
}

TEST_F(StatusServerTest, AThrowingHandlerIs500WithItsMessage) {
  httplib::Result r = Client().Get("/boom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, "internal error: kaboom second line\n");
  EXPECT_EQ(r->get_header_value("Content-Type"), kText);
  // The server goes on serving.
  httplib::Result after = Client().Get("/elect");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(StatusServerTest, AnErrorStatusWithoutBodyGetsALine) {
  httplib::Result r = Client().Get("/unavailable");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "503 error\n");
}

TEST_F(StatusServerTest, ASecondServerOnTheSamePortFails) {
  const std::string addr = "127.0.0.1:" + std::to_string(server_->port());
  Result<std::unique_ptr<StatusServer>> second =
      StatusServer::Start(addr, TestRoutes());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  EXPECT_EQ(second.status().message(),
            "status server: listen on " + addr + ": Address already in use");
}

TEST_F(StatusServerTest, StopsPromptlyWithAnIdleKeptAliveConnection) {
  httplib::Client client = Client();
  client.set_keep_alive(true);
  httplib::Result r = client.Get("/elect");
  ASSERT_TRUE(r);
  auto start = std::chrono::steady_clock::now();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(StatusServerStartTest, EveryInterfaceAndNamesAreServed) {
  for (const char* addr : {":0", "localhost:0"}) {
    Result<std::unique_ptr<StatusServer>> server =
        StatusServer::Start(addr, TestRoutes());
    ASSERT_TRUE(server.ok()) << addr << ": " << server.status().ToString();
    httplib::Client client("127.0.0.1", (*server)->port());
    httplib::Result r = client.Get("/elect");
    ASSERT_TRUE(r) << addr;
    EXPECT_EQ(r->status, 200);
  }
}

TEST(StatusServerStartTest, IPv6LoopbackInBrackets) {
  Result<std::unique_ptr<StatusServer>> server =
      StatusServer::Start("[::1]:0", TestRoutes());
  if (!server.ok() && server.status().code() == Code::kUnavailable) {
    GTEST_SKIP() << "no IPv6 loopback: " << server.status().ToString();
  }
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  httplib::Client client("::1", (*server)->port());
  httplib::Result r = client.Get("/elect");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
}

TEST(StatusServerStartTest, MalformedAddressesAreInvalid) {
  for (const char* addr : {"8080", "::1:80", "[::1:80", "::1]:80", "h:99999",
                           "h:-1", "h:http", "h:123456"}) {
    Result<std::unique_ptr<StatusServer>> server =
        StatusServer::Start(addr, TestRoutes());
    ASSERT_FALSE(server.ok()) << addr;
    EXPECT_EQ(server.status().code(), Code::kInvalidArgument) << addr;
    EXPECT_TRUE(
        server.status().message().starts_with("status server: bad address "))
        << server.status().ToString();
  }
}

TEST(StatusServerStartTest, AnUnresolvableHostIsUnavailable) {
  Result<std::unique_ptr<StatusServer>> server =
      StatusServer::Start("no-such-host.invalid:0", TestRoutes());
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), Code::kUnavailable);
  EXPECT_TRUE(server.status().message().starts_with(
      "status server: listen on no-such-host.invalid:0: "))
      << server.status().ToString();
}

TEST(ParseListenAddressTest, GoForms) {
  struct Case {
    const char* addr;
    const char* host;
    int port;
  };
  for (const Case& c : std::vector<Case>{
           {":8080", "", 8080},
           {"127.0.0.1:9100", "127.0.0.1", 9100},
           {"[::1]:0", "::1", 0},
           {"[::]:65535", "::", 65535},
           {"localhost:80", "localhost", 80},
           {"127.0.0.1:", "127.0.0.1", 0},
       }) {
    Result<ListenAddress> parsed = ParseListenAddress(c.addr);
    ASSERT_TRUE(parsed.ok()) << c.addr << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->host, c.host) << c.addr;
    EXPECT_EQ(parsed->port, c.port) << c.addr;
  }
  EXPECT_EQ(ParseListenAddress("8080").status().message(),
            "status server: bad address \"8080\": missing port");
}

}  // namespace
}  // namespace conch::status
