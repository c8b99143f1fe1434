// conch's version, printed by `conch version` and `switchman -v`.
#pragma once

namespace conch {

inline constexpr const char* kConchVersion = "0.1.0";

}  // namespace conch
