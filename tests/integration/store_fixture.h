// A test fixture that starts a real store and opens a Backend on it. The
// contract suite is parameterized by store kind so that every backend must
// pass the same tests; etcd is the one implemented so far.
#pragma once

#include <ostream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "backend/backend.h"
#include "servers/etcd_server.h"

namespace conch::testing {

enum class StoreKind { kEtcd };

inline void PrintTo(StoreKind kind, std::ostream* os) {
  switch (kind) {
    case StoreKind::kEtcd:
      *os << "etcd";
      break;
  }
}

inline std::string StoreName(const ::testing::TestParamInfo<StoreKind>& info) {
  switch (info.param) {
    case StoreKind::kEtcd:
      return "etcd";
  }
  return "unknown";
}

class StoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void StartStore(int members = 1) {
    EtcdStart started = EtcdCluster::Start(members);
    ASSERT_TRUE(started.ok()) << started.error;
    cluster_ = std::move(started.cluster);
    backend_ = Open(cluster_->endpoints());
    ASSERT_NE(backend_, nullptr);
  }

  std::unique_ptr<backend::Backend> Open(const std::string& endpoints) {
    backend::BackendOptions o;
    size_t start = 0;
    for (;;) {
      size_t comma = endpoints.find(',', start);
      o.endpoints.push_back(endpoints.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    o.dial_timeout = std::chrono::seconds(2);
    Result<std::unique_ptr<backend::Backend>> b = backend::OpenEtcd(o);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(b).value() : nullptr;
  }

  // A key prefix of this test's own.
  std::string Prefix() const {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string("/conch-test/") + info->name() + "/";
  }

  static MonoTime Soon() { return MonoNow() + std::chrono::seconds(3); }

  // Waits up to `timeout` for an event on `sink` matching `pred`.
  template <typename Pred>
  static std::optional<backend::Event> AwaitEvent(
      backend::EventSink& sink, Pred pred,
      Duration timeout = std::chrono::seconds(3)) {
    MonoTime until = MonoNow() + timeout;
    while (MonoNow() < until) {
      for (backend::Event& e : sink.Drain()) {
        if (pred(e)) return std::move(e);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  }

  std::unique_ptr<EtcdCluster> cluster_;
  std::unique_ptr<backend::Backend> backend_;
};

}  // namespace conch::testing
