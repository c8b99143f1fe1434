#include "conchd/output.h"

namespace conch::conchd {

void KeepTail(std::string* kept, std::string_view bytes, size_t keep) {
  if (bytes.size() >= keep) {
    kept->assign(bytes.substr(bytes.size() - keep));
    return;
  }
  kept->append(bytes);
  if (kept->size() > keep) kept->erase(0, kept->size() - keep);
}

std::string OutputLines::Add(std::string_view bytes, std::string* kept) {
  if (kept != nullptr) KeepTail(kept, bytes, keep_);
  std::string out;
  for (char c : bytes) {
    if (c == '\n') {
      out += prefix_;
      out += pending_;
      out += '\n';
      pending_.clear();
      continue;
    }
    pending_ += c;
    if (pending_.size() >= max_line_) {
      out += prefix_;
      out += pending_;
      out += '\n';
      pending_.clear();
    }
  }
  return out;
}

std::string OutputLines::Flush() {
  if (pending_.empty()) return "";
  std::string out = prefix_ + pending_ + "\n";
  pending_.clear();
  return out;
}

}  // namespace conch::conchd
