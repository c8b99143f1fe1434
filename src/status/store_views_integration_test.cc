// The /elect and /sema views over both real stores: contenders created
// with real sessions, as conch and the original write them.
#include <gtest/gtest.h>

#include "primitives/holder.h"
#include "primitives/keys.h"
#include "status/store_views.h"
#include "store_fixture.h"

namespace conch::testing {
namespace {

using status::ElectJson;
using status::SemaJson;

constexpr const char* kStarted = "2026-11-22T07:28:36Z";

std::string HolderJson(const std::string& host, long long pid,
                       const std::string& cmd, int64_t weight = 1,
                       bool held = false) {
  primitives::Holder h;
  h.host = host;
  h.pid = pid;
  h.started = kStarted;
  h.cmd = cmd;
  h.weight = weight;
  h.held = held;
  return primitives::EncodeHolder(h);
}

// One claim in the JSON: {host,pid,started,cmd,create_revision}.
std::string Entry(const std::string& host, long long pid,
                  const std::string& cmd, int64_t create_revision) {
  return R"({"host":")" + host + R"(","pid":)" + std::to_string(pid) +
         R"(,"started":")" + kStarted + R"(","cmd":")" + cmd +
         R"(","create_revision":)" + std::to_string(create_revision) + "}";
}

class StoreViewsTest : public StoreTest {
 protected:
  void SetUp() override {
    CONCH_REQUIRE_STORE();
    StartStore();
  }

  void TearDown() override {
    for (std::unique_ptr<backend::Session>& s : sessions_) {
      if (s) (void)s->End(Soon());
    }
  }

  // A contender of a new session under `prefix`; the session lives until
  // the end of the test (or End()).
  backend::KeyValue Claim(const std::string& prefix, const std::string& value,
                          backend::Session** session = nullptr) {
    Result<std::unique_ptr<backend::Session>> s =
        backend_->OpenSession(std::chrono::seconds(10), Soon(), &sink_, 1);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return {};
    sessions_.push_back(std::move(s).value());
    if (session != nullptr) *session = sessions_.back().get();
    Result<backend::Contender> c =
        backend_->CreateContender(*sessions_.back(), prefix, value, Soon());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->self : backend::KeyValue{};
  }

  void EndAll() {
    for (std::unique_ptr<backend::Session>& s : sessions_) {
      Status ended = s->End(Soon());
      // kNotFound: ended already, by the test.
      ASSERT_TRUE(ended.ok() || ended.code() == Code::kNotFound)
          << ended.ToString();
    }
    sessions_.clear();
  }

  backend::EventSink sink_;
  std::vector<std::unique_ptr<backend::Session>> sessions_;
};

TEST_P(StoreViewsTest, ElectShowsEachOfficesLeader) {
  backend::KeyValue db = Claim(primitives::ElectPrefix("db"),
                               HolderJson("web1", 4242, "backup db"));
  Claim(primitives::ElectPrefix("db"), HolderJson("web2", 77, "backup db"));
  backend::KeyValue api =
      Claim(primitives::ElectPrefix("api"), HolderJson("web3", 5, ""));
  backend::Session* vacated = nullptr;
  Claim(primitives::ElectPrefix("vacated"), HolderJson("web4", 6, "x"),
        &vacated);
  ASSERT_TRUE(vacated != nullptr && vacated->End(Soon()).ok());

  Result<std::string> json = ElectJson(*backend_, Soon());
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json,
            R"([{"office":"api","leader":"web3","pid":5,"started":")" +
                std::string(kStarted) + R"(","cmd":"","create_revision":)" +
                std::to_string(api.create_revision) +
                R"(},{"office":"db","leader":"web1","pid":4242,"started":")" +
                kStarted + R"(","cmd":"backup db","create_revision":)" +
                std::to_string(db.create_revision) + "}]");

  EndAll();
  Result<std::string> none = ElectJson(*backend_, Soon());
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, "[]");
}

TEST_P(StoreViewsTest, SemaSplitsHoldersFromTheWaitlist) {
  // The original's claims: no marks, the first max hold.
  const std::string pool = primitives::SemaPrefix("pool", 2);
  backend::KeyValue p1 = Claim(pool, HolderJson("h1", 1, "a"));
  backend::KeyValue p2 = Claim(pool, HolderJson("h2", 2, "b"));
  backend::KeyValue p3 = Claim(pool, HolderJson("h3", 3, "c"));
  // conch's weighted claims: the marked one holds.
  const std::string gpu = primitives::SemaPrefix("gpu", 3);
  backend::KeyValue g1 = Claim(gpu, HolderJson("g1", 10, "train", 2, true));
  backend::KeyValue g2 = Claim(gpu, HolderJson("g2", 11, "train", 2));

  Result<std::string> json = SemaJson(*backend_, Soon());
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, R"([{"name":"gpu","max":3,"holders":[)" +
                       Entry("g1", 10, "train", g1.create_revision) +
                       R"(],"waitlist":[)" +
                       Entry("g2", 11, "train", g2.create_revision) +
                       R"(]},{"name":"pool","max":2,"holders":[)" +
                       Entry("h1", 1, "a", p1.create_revision) + "," +
                       Entry("h2", 2, "b", p2.create_revision) +
                       R"(],"waitlist":[)" +
                       Entry("h3", 3, "c", p3.create_revision) + "]}]");

  EndAll();
  Result<std::string> none = SemaJson(*backend_, Soon());
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, "[]");
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreViewsTest, BothStores(), StoreName);

}  // namespace
}  // namespace conch::testing
