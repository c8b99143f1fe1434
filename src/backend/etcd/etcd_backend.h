// The etcd v3 implementation of Backend. Reached through OpenBackend
// (backend/store.h); nothing else includes this header.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "backend/store.h"

namespace conch::backend {

// Opens an etcd v3 backend on `address` (kind kEtcd). Does not block.
Result<std::unique_ptr<Backend>> OpenEtcd(const StoreAddress& address,
                                          const BackendOptions& options);

}  // namespace conch::backend
