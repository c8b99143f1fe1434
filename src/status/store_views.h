// JSON views of the whole store for conchd's /elect and /sema, in the
// original conchd's shapes, from keys either tool wrote (docs/design.md,
// "Store layout"):
//
//   /elect: [{"office":"db","leader":"web1","pid":4242,
//             "started":"2026-11-22T07:28:36Z","cmd":"backup",
//             "create_revision":1234}, ...]
//     one item per office that has a leader (the key of lowest create
//     revision under /conch/v1/elect/<office>/), sorted by office; the
//     other fields come from the leader's holder JSON (empty or 0 when it
//     is not holder JSON). Vacant offices are absent.
//
//   /sema: [{"name":"pool","max":2,"holders":[<entry>...],
//            "waitlist":[<entry>...]}, ...]
//     one item per semaphore (name, max) with keys under
//     /conch/v1/sema/<name>/<max>/, sorted by name then max; each entry
//     {"host","pid","started","cmd","create_revision"}, in create-revision
//     order. When any claim carries "held":true (conch marks a claim once
//     admitted), the marked ones hold and the rest wait; otherwise (the
//     original's claims) the first `max` hold.
//
// Keys that do not follow the layout are skipped. No sessions are opened
// and nothing is written.
//
// Thread contract: as the Backend given (its calls belong to one thread at
// a time); the functions keep no state.
#pragma once

#include <string>
#include <vector>

#include "backend/backend.h"
#include "base/clock.h"
#include "base/status.h"

namespace conch::status {

// The /elect array, compact JSON ("[]" when no office has a leader). One
// Backend::ListTree; its errors are returned with context ("elect view:").
Result<std::string> ElectJson(backend::Backend& backend, MonoTime deadline);

// The /sema array, compact JSON ("[]" when there is no claim). One
// Backend::ListTree; its errors are returned with context ("sema view:").
Result<std::string> SemaJson(backend::Backend& backend, MonoTime deadline);

// The same from keys already read (ListTree's output for /conch/v1/elect/
// and /conch/v1/sema/), for tests.
std::string ElectJsonOf(const std::vector<backend::KeyValue>& kvs);
std::string SemaJsonOf(const std::vector<backend::KeyValue>& kvs);

}  // namespace conch::status
