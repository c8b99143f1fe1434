// libFuzzer target for the holder record (primitives/holder.h), which conch
// reads back from keys that any client, including the original Go tool, may
// have written. Beyond "no crash, no sanitizer report" (and no exception
// escaping nlohmann::json), it checks:
//   - DecodeHolder of arbitrary bytes: when it decodes, the strings are valid
//     UTF-8, the weight is at least 1, and encoding then decoding again
//     gives the same holder;
//   - EncodeHolder of a holder built from fuzz bytes is valid UTF-8 and
//     decodes; pid, spread and held always come back exactly, and so does a
//     weight of at least 1 (a smaller one comes back as 1, as a record of
//     the original, which has no weights, reads); each string comes back
//     exactly when it is valid UTF-8 (otherwise it comes back repaired, as
//     valid UTF-8);
//   - the encoded object always has "host", "pid" and "started", has "cmd",
//     "weight", "spread" and "held" exactly when they differ from what a
//     reader assumes when they are missing (a cmd, a weight other than 1,
//     spread, held), and nothing else, so the original reads it;
//   - JoinCommand(argv) is the space-joined argv cut to its first 256
//     bytes, and so never longer than kMaxCmdBytes.
// A broken contract aborts through CONCH_CHECK, which libFuzzer reports as a
// crash and saves the input.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/fuzz/fuzz_util.h"
#include "base/status.h"
#include "primitives/holder.h"

namespace conch {
namespace {

using primitives::DecodeHolder;
using primitives::EncodeHolder;
using primitives::Holder;

bool SameHolder(const Holder& a, const Holder& b) {
  return a.host == b.host && a.pid == b.pid && a.started == b.started &&
         a.cmd == b.cmd && a.weight == b.weight && a.spread == b.spread &&
         a.held == b.held;
}

// A string field after EncodeHolder and DecodeHolder.
void CheckField(const std::string& sent, const std::string& received) {
  if (fuzz::IsValidUtf8(sent)) {
    CONCH_CHECK(received == sent);
  } else {
    CONCH_CHECK(fuzz::IsValidUtf8(received));
  }
}

// The encoded object's keys: the three always written, the optional ones
// exactly when needed, and nothing else.
void CheckFieldsPresent(const Holder& holder, const std::string& encoded) {
  const nlohmann::json j = nlohmann::json::parse(encoded, nullptr, false);
  CONCH_CHECK(j.is_object());
  CONCH_CHECK(j.contains("host") && j.contains("pid") && j.contains("started"));
  CONCH_CHECK(j.contains("cmd") == !holder.cmd.empty());
  CONCH_CHECK(j.contains("weight") == (holder.weight != 1));
  CONCH_CHECK(j.contains("spread") == holder.spread);
  CONCH_CHECK(j.contains("held") == holder.held);
  const size_t optional_fields =
      (holder.cmd.empty() ? 0 : 1) + (holder.weight != 1 ? 1 : 0) +
      (holder.spread ? 1 : 0) + (holder.held ? 1 : 0);
  CONCH_CHECK(j.size() == 3 + optional_fields);
}

void CheckDecode(std::string_view value) {
  std::optional<Holder> decoded = DecodeHolder(std::string(value));
  if (!decoded) return;
  CONCH_CHECK(fuzz::IsValidUtf8(decoded->host));
  CONCH_CHECK(fuzz::IsValidUtf8(decoded->started));
  CONCH_CHECK(fuzz::IsValidUtf8(decoded->cmd));
  CONCH_CHECK(decoded->weight >= 1);
  std::optional<Holder> again = DecodeHolder(EncodeHolder(*decoded));
  CONCH_CHECK(again.has_value());
  CONCH_CHECK(SameHolder(*again, *decoded));
}

void CheckEncode(FuzzedDataProvider& provider) {
  Holder holder;
  holder.pid = provider.ConsumeIntegral<int64_t>();
  holder.host = provider.ConsumeRandomLengthString(300);
  holder.started = provider.ConsumeRandomLengthString(300);
  holder.cmd = provider.ConsumeRandomLengthString(300);
  holder.weight = provider.ConsumeBool()
                      ? provider.ConsumeIntegralInRange<int64_t>(1, 1000)
                      : provider.ConsumeIntegral<int64_t>();
  holder.spread = provider.ConsumeBool();
  holder.held = provider.ConsumeBool();

  const std::string encoded = EncodeHolder(holder);
  CONCH_CHECK(fuzz::IsValidUtf8(encoded));
  CheckFieldsPresent(holder, encoded);
  std::optional<Holder> decoded = DecodeHolder(encoded);
  CONCH_CHECK(decoded.has_value());
  CONCH_CHECK(decoded->pid == holder.pid);
  CONCH_CHECK(decoded->weight == std::max<int64_t>(holder.weight, 1));
  CONCH_CHECK(decoded->spread == holder.spread);
  CONCH_CHECK(decoded->held == holder.held);
  CheckField(holder.host, decoded->host);
  CheckField(holder.started, decoded->started);
  CheckField(holder.cmd, decoded->cmd);
}

void CheckJoin(FuzzedDataProvider& provider) {
  std::vector<std::string> argv;
  std::string joined;  // the whole argv, uncut
  while (provider.remaining_bytes() > 0 && argv.size() < 64) {
    argv.push_back(provider.ConsumeRandomLengthString(300));
    if (argv.size() > 1) joined += ' ';
    joined += argv.back();
  }
  const std::string cmd = primitives::JoinCommand(argv);
  CONCH_CHECK(cmd.size() <= primitives::kMaxCmdBytes);
  // The cut falls at most 3 bytes early, never inside a UTF-8 character.
  CONCH_CHECK(joined.starts_with(cmd));
  CONCH_CHECK(cmd.size() + 3 >=
              std::min(joined.size(), primitives::kMaxCmdBytes));
  if (fuzz::IsValidUtf8(joined)) CONCH_CHECK(fuzz::IsValidUtf8(cmd));
}

}  // namespace
}  // namespace conch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conch::CheckDecode(conch::fuzz::AsText(data, size));
  FuzzedDataProvider provider(data, size);
  conch::CheckEncode(provider);
  conch::CheckJoin(provider);
  return 0;
}
