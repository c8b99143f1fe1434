#include "backend/store.h"

#include "backend/etcd/etcd_backend.h"
#include "backend/zookeeper/zk_backend.h"

namespace conch::backend {

Result<std::unique_ptr<Backend>> OpenBackend(const BackendOptions& options) {
  Result<StoreAddress> address = ParseStoreAddress(options.endpoints);
  if (!address.ok()) return address.status();
  switch (address->kind) {
    case StoreKind::kEtcd:
      return OpenEtcd(*address, options);
    case StoreKind::kZooKeeper:
      return OpenZooKeeper(*address, options);
  }
  return Error(Code::kInternal, "unknown store kind");
}

}  // namespace conch::backend
