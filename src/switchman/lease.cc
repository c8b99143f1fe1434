#include "switchman/lease.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <limits>

#include "base/strings.h"
#include "base/unique_fd.h"

namespace conch::switchman {

namespace {

// ---- Text helpers with Perl's meanings ----

// Perl's \s.
bool IsPerlSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsWordStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsWordChar(char c) { return IsWordStart(c) || IsDigit(c); }

// Perl truthiness of a string: defined, not "" and not "0".
bool PerlTrue(const std::optional<std::string>& s) {
  return s && !s->empty() && *s != "0";
}

// The lines of `text` as Perl's readline gives them, without the "\n".
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

size_t SkipSpaces(std::string_view text, size_t pos) {
  while (pos < text.size() && IsPerlSpace(text[pos])) ++pos;
  return pos;
}

size_t SkipNonSpaces(std::string_view text, size_t pos) {
  while (pos < text.size() && !IsPerlSpace(text[pos])) ++pos;
  return pos;
}

// Net::Domain's clean-up of a host or domain name: drop NUL, CR and LF,
// strip leading and trailing dots, collapse runs of dots.
std::string CleanName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '\0' || c == '\r' || c == '\n') continue;
    if (c == '.' && (out.empty() || out.back() == '.')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// Perl's split(/\./, $s): empty fields are kept except trailing ones.
std::vector<std::string> SplitDots(std::string_view s) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    fields.emplace_back(s.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  while (!fields.empty() && fields.back().empty()) fields.pop_back();
  return fields;
}

std::string JoinDots(const std::vector<std::string>& a, size_t a_count,
                     const std::vector<std::string>& b) {
  std::vector<std::string> all(a.begin(),
                               a.begin() + static_cast<ptrdiff_t>(a_count));
  all.insert(all.end(), b.begin(), b.end());
  return Join(all, ".");
}

// /^\d+(\.\d+){3}$/
bool IsDottedQuad(std::string_view s) {
  std::vector<std::string> parts = SplitDots(s);
  if (parts.size() != 4 || s.empty() || s.back() == '.') return false;
  for (const std::string& part : parts) {
    if (part.empty()) return false;
    for (char c : part) {
      if (!IsDigit(c)) return false;
    }
  }
  return true;
}

// ---- Net::Domain ----

std::optional<HostEntry> Lookup(const FqdnSources& sources,
                                const std::string& name) {
  if (!sources.lookup) return std::nullopt;
  return sources.lookup(name);
}

// _hostdomain(): the domain from resolv.conf, then from the first dotted
// name that the lookups return, then from the environment.
std::optional<std::string> HostDomain(const std::string& host,
                                      const FqdnSources& sources) {
  if (sources.resolv_conf) {
    std::optional<std::string> domain =
        ParseResolvConfDomain(*sources.resolv_conf);
    if (domain) return domain;
  }
  std::vector<std::string> names;
  if (host.find('.') == std::string::npos) {
    // Net::Domain strips leading dots and, through a regex slip
    // (s/^[^.]+.+//), only ever tries one "host.NIS".
    std::string_view nis = sources.nis_domain;
    while (!nis.empty() && nis.front() == '.') nis.remove_prefix(1);
    if (!nis.empty() && nis != "(none)") {
      names.push_back(host + "." + std::string(nis));
    }
  }
  names.push_back(host);
  names.emplace_back("localhost");
  for (const std::string& name : names) {
    std::optional<HostEntry> entry = Lookup(sources, name);
    if (!entry) continue;
    std::vector<std::string> sites = {entry->name};
    sites.insert(sites.end(), entry->aliases.begin(), entry->aliases.end());
    for (const std::string& site : sites) {
      size_t last_dot = site.rfind('.');
      if (last_dot == std::string::npos || last_dot == 0) continue;
      // s/\A[^.]+\.//: drops the first label unless the name starts
      // with a dot.
      if (site.front() == '.') return site;
      return site.substr(site.find('.') + 1);
    }
  }
  // $domain ||= $ENV{LOCALDOMAIN} || $ENV{DOMAIN}: DOMAIN even when false.
  std::optional<std::string> domain = PerlTrue(sources.localdomain_env)
                                          ? sources.localdomain_env
                                          : sources.domain_env;
  if (domain) domain = CleanName(*domain);
  return domain;
}

// ---- Reading the host ----

constexpr size_t kMaxFileBytes = 1 << 20;

// The text of a small file such as /proc/meminfo.
Result<std::string> ReadSmallFile(const char* path) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  std::string text;
  std::array<char, 4096> buf{};
  while (fd.valid() && text.size() < kMaxFileBytes) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n == 0) return text;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf.data(), static_cast<size_t>(n));
  }
  if (fd.valid() && text.size() >= kMaxFileBytes) return text;
  return Error(Code::kInternal,
               std::string("read ") + path + ": " + ErrnoString(errno));
}

// gethostbyname(3), which Perl's gethostbyname calls, in its reentrant
// form.
std::optional<HostEntry> GetHostByName(const std::string& name) {
  std::vector<char> buf(4096);
  hostent entry{};
  hostent* result = nullptr;
  int h_err = 0;
  while (::gethostbyname_r(name.c_str(), &entry, buf.data(), buf.size(),
                           &result, &h_err) == ERANGE &&
         buf.size() < kMaxFileBytes) {
    buf.resize(buf.size() * 2);
  }
  if (result == nullptr) return std::nullopt;
  HostEntry out;
  if (result->h_name != nullptr) out.name = result->h_name;
  for (char** alias = result->h_aliases; alias != nullptr && *alias != nullptr;
       ++alias) {
    out.aliases.emplace_back(*alias);
  }
  return out;
}

std::optional<std::string> Env(const char* name) {
  // Read once at start-up, before any thread could call setenv().
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

FqdnSources RealFqdnSources() {
  FqdnSources sources;
  utsname names{};
  if (::uname(&names) == 0) {
    sources.nodename = names.nodename;
    sources.nis_domain = names.domainname;  // what getdomainname(2) reads
  }
  Result<std::string> resolv_conf = ReadSmallFile("/etc/resolv.conf");
  if (resolv_conf.ok()) sources.resolv_conf = std::move(*resolv_conf);
  sources.localdomain_env = Env("LOCALDOMAIN");
  sources.domain_env = Env("DOMAIN");
  sources.lookup = GetHostByName;
  return sources;
}

// ---- The expression evaluator ----

// Wide enough for any product or sum of two int64 values.
using Wide = __int128;
constexpr Wide kMaxMagnitude = std::numeric_limits<int64_t>::max();
constexpr int kMaxDepth = 64;
constexpr int kEnd = -1;

Wide Gcd(Wide a, Wide b) {
  if (a < 0) a = -a;
  while (b != 0) {
    Wide r = a % b;
    a = b;
    b = r;
  }
  return a;
}

std::string Position(size_t at) { return "position " + std::to_string(at + 1); }

// A recursive-descent evaluator over the bytes of one expression. Each
// function returns nullopt after recording the first error in error_.
class Evaluator {
 public:
  explicit Evaluator(std::string_view text) : text_(text) {}

  Result<Fraction> Run() {
    if (SkipSpaces(text_, 0) == text_.size()) {
      return Error(Code::kInvalidArgument, "empty expression");
    }
    std::optional<Fraction> value = Sum(0);
    if (value && Peek() != kEnd) Unexpected(pos_);
    if (!error_.ok()) return error_;
    return *value;
  }

 private:
  // The next byte after whitespace, or kEnd.
  int Peek() {
    pos_ = SkipSpaces(text_, pos_);
    return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : kEnd;
  }

  std::nullopt_t Fail(const std::string& message) {
    if (error_.ok()) error_ = Error(Code::kInvalidArgument, message);
    return std::nullopt;
  }

  // "++", "--" and "**" are Perl operators that this evaluator lacks.
  bool Doubled(size_t at) const {
    return at + 1 < text_.size() && text_[at + 1] == text_[at];
  }
  std::nullopt_t Unsupported(size_t at) {
    return Fail("unsupported operator " + Quote(text_.substr(at, 2)) + " at " +
                Position(at));
  }

  std::nullopt_t Unexpected(size_t at) {
    if (at >= text_.size()) return Fail("unexpected end at " + Position(at));
    char c = text_[at];
    if (IsWordStart(c)) {
      size_t end = at;
      while (end < text_.size() && IsWordChar(text_[end])) ++end;
      return Fail("unknown name " + Quote(text_.substr(at, end - at)) + " at " +
                  Position(at));
    }
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7F) {
      constexpr std::string_view kHex = "0123456789abcdef";
      return Fail(std::string("unexpected byte 0x") + kHex[byte >> 4] +
                  kHex[byte & 0xF] + " at " + Position(at));
    }
    return Fail("unexpected " + Quote(text_.substr(at, 1)) + " at " +
                Position(at));
  }

  // sum := product (("+" | "-") product)*
  std::optional<Fraction> Sum(int depth) {
    std::optional<Fraction> lhs = Product(depth);
    for (int c = Peek(); lhs && (c == '+' || c == '-'); c = Peek()) {
      size_t at = pos_;
      if (Doubled(at)) return Unsupported(at);
      ++pos_;
      std::optional<Fraction> rhs = Product(depth);
      if (!rhs) return std::nullopt;
      lhs = Apply(static_cast<char>(c), *lhs, *rhs, at);
    }
    return lhs;
  }

  // product := unary (("*" | "/" | "%") unary)*
  std::optional<Fraction> Product(int depth) {
    std::optional<Fraction> lhs = Unary(depth);
    for (int c = Peek(); lhs && (c == '*' || c == '/' || c == '%');
         c = Peek()) {
      size_t at = pos_;
      if (c == '*' && Doubled(at)) return Unsupported(at);
      ++pos_;
      std::optional<Fraction> rhs = Unary(depth);
      if (!rhs) return std::nullopt;
      lhs = Apply(static_cast<char>(c), *lhs, *rhs, at);
    }
    return lhs;
  }

  // unary := ("+" | "-")* primary, binding tighter than "*" as in Perl.
  std::optional<Fraction> Unary(int depth) {
    bool negate = false;
    for (int c = Peek(); c == '+' || c == '-'; c = Peek()) {
      if (Doubled(pos_)) return Unsupported(pos_);
      negate = negate != (c == '-');
      ++pos_;
    }
    std::optional<Fraction> value = Primary(depth);
    if (value && negate) value->num = -value->num;
    return value;
  }

  // primary := number | "(" sum ")" | "int" "(" sum ")"
  std::optional<Fraction> Primary(int depth) {
    int c = Peek();
    if (c != kEnd && IsDigit(static_cast<char>(c))) return Number();
    bool is_int = text_.substr(pos_, 3) == "int" &&
                  (pos_ + 3 == text_.size() || !IsWordChar(text_[pos_ + 3]));
    if (is_int) {
      size_t at = pos_;
      pos_ += 3;
      if (Peek() != '(') {
        return Fail("\"int\" at " + Position(at) +
                    " must be followed by \"(\"");
      }
      std::optional<Fraction> value = Parenthesized(depth);
      if (value) *value = Fraction{value->num / value->den, 1};
      return value;
    }
    if (c == '(') return Parenthesized(depth);
    return Unexpected(pos_);
  }

  // "(" sum ")", with pos_ at the "(".
  std::optional<Fraction> Parenthesized(int depth) {
    size_t open = pos_;
    if (depth >= kMaxDepth) {
      return Fail("parentheses nested deeper than " +
                  std::to_string(kMaxDepth) + " at " + Position(open));
    }
    ++pos_;
    std::optional<Fraction> value = Sum(depth + 1);
    if (!value) return std::nullopt;
    int c = Peek();
    if (c == kEnd) return Fail("\"(\" at " + Position(open) + " is not closed");
    if (c != ')') return Unexpected(pos_);
    ++pos_;
    return value;
  }

  // A decimal literal. Anything glued to it that Perl could read as part of
  // a number (0x10, 1_000, 1.5, 1e3) is refused, as is Perl's octal 010.
  std::optional<Fraction> Number() {
    size_t at = pos_;
    size_t end = at;
    while (end < text_.size() &&
           (IsWordChar(text_[end]) || text_[end] == '.')) {
      ++end;
    }
    std::string_view literal = text_.substr(at, end - at);
    for (char c : literal) {
      if (!IsDigit(c)) {
        return Fail("bad number " + Quote(literal) + " at " + Position(at) +
                    ": only decimal integers are allowed");
      }
    }
    if (literal.size() > 1 && literal[0] == '0') {
      return Fail("bad number " + Quote(literal) + " at " + Position(at) +
                  ": Perl would read a leading zero as octal");
    }
    Wide value = 0;
    for (char c : literal) {
      value = value * 10 + (c - '0');
      if (value > kMaxMagnitude) {
        return Fail("number at " + Position(at) + " is too large");
      }
    }
    pos_ = end;
    return Fraction{static_cast<int64_t>(value), 1};
  }

  std::optional<Fraction> Apply(char op, Fraction a, Fraction b, size_t at) {
    Wide num = 0;
    Wide den = Wide{a.den} * b.den;
    switch (op) {
      case '+':
        num = Wide{a.num} * b.den + Wide{b.num} * a.den;
        break;
      case '-':
        num = Wide{a.num} * b.den - Wide{b.num} * a.den;
        break;
      case '*':
        num = Wide{a.num} * b.num;
        break;
      case '/':
        if (b.num == 0) return Fail("division by zero at " + Position(at));
        num = Wide{a.num} * b.den;
        den = Wide{a.den} * b.num;
        break;
      default:
        return Modulus(a, b, at);
    }
    if (den < 0) {
      num = -num;
      den = -den;
    }
    Wide gcd = Gcd(num, den);
    num /= gcd;
    den /= gcd;
    if (num > kMaxMagnitude || num < -kMaxMagnitude || den > kMaxMagnitude) {
      return Fail("result of " + Quote(std::string(1, op)) + " at " +
                  Position(at) + " is out of range (beyond 2^63-1)");
    }
    return Fraction{static_cast<int64_t>(num), static_cast<int64_t>(den)};
  }

  // Perl's %: both operands truncated toward zero, then a result with the
  // sign of the right operand.
  std::optional<Fraction> Modulus(Fraction a, Fraction b, size_t at) {
    int64_t left = a.num / a.den;
    int64_t right = b.num / b.den;
    if (right == 0) return Fail("modulus by zero at " + Position(at));
    int64_t rest = left % right;  // |left| < 2^63, so never INT64_MIN % -1
    if (rest != 0 && (rest < 0) != (right < 0)) rest += right;
    return Fraction{rest, 1};
  }

  std::string_view text_;
  size_t pos_ = 0;
  Status error_;
};

// ---- Lease checks ----

// The resource becomes a znode name under queues/ and semaphores/.
Status CheckResource(const std::string& resource) {
  if (resource.empty()) {
    return Error(Code::kInvalidArgument, "empty resource name");
  }
  if (resource == "." || resource == "..") {
    return Error(Code::kInvalidArgument,
                 "resource name " + Quote(resource) + " is not allowed");
  }
  if (resource.find('/') != std::string::npos) {
    return Error(Code::kInvalidArgument, "resource name " + Quote(resource) +
                                             " must not contain \"/\"");
  }
  for (char c : resource) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      return Error(Code::kInvalidArgument, "resource name " + Quote(resource) +
                                               " contains a control character");
    }
  }
  return Status::Ok();
}

std::string ShowFraction(Fraction f) {
  return std::to_string(f.num) + "/" + std::to_string(f.den);
}

// Evaluates one side; `what` is "count" or "total".
Result<int64_t> EvalSide(const std::string& what, std::string_view expr) {
  Result<Fraction> value = EvalExpression(expr);
  if (!value.ok()) {
    return value.status().With("bad " + what + " " + Quote(expr));
  }
  if (value->den != 1) {
    return Error(Code::kInvalidArgument, what + " " + Quote(expr) +
                                             " is not an integer (it is " +
                                             ShowFraction(*value) + ")");
  }
  return value->num;
}

Status CheckBounds(int64_t count, int64_t total) {
  if (total < 1) {
    return Error(Code::kInvalidArgument,
                 "total must be at least 1, not " + std::to_string(total));
  }
  if (count < 0) {
    return Error(Code::kInvalidArgument,
                 "count must not be negative, not " + std::to_string(count));
  }
  if (count > total) {
    return Error(Code::kInvalidArgument, "count " + std::to_string(count) +
                                             " is greater than total " +
                                             std::to_string(total));
  }
  return Status::Ok();
}

Result<Lease> ParseLeaseBody(std::string_view arg, const HostFacts& facts) {
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos) {
    return Error(Code::kInvalidArgument,
                 "expected RES=COUNT:TOTAL, found no \"=\"");
  }
  if (facts.fqdn.empty() && arg.find("FQDN") != std::string_view::npos) {
    return Error(Code::kInvalidArgument,
                 "uses FQDN, but this host's FQDN could not be determined");
  }
  Lease lease;
  lease.text = std::string(arg);
  lease.resource = ExpandMacros(arg.substr(0, eq), facts);
  CONCH_RETURN_IF_ERROR(CheckResource(lease.resource));
  std::string value = ExpandMacros(arg.substr(eq + 1), facts);
  size_t colon = value.find(':');
  if (colon == std::string::npos) {
    return Error(Code::kInvalidArgument, "expected COUNT:TOTAL after \"=\", " +
                                             Quote(value) + " has no \":\"");
  }
  Result<int64_t> count = EvalSide("count", value.substr(0, colon));
  if (!count.ok()) return count.status();
  Result<int64_t> total = EvalSide("total", value.substr(colon + 1));
  if (!total.ok()) return total.status();
  lease.count = *count;
  lease.total = *total;
  CONCH_RETURN_IF_ERROR(CheckBounds(lease.count, lease.total));
  return lease;
}

}  // namespace

Result<int64_t> ParseMemTotalMb(std::string_view meminfo) {
  std::optional<std::string_view> kb;
  for (std::string_view line : Lines(meminfo)) {
    // /^(\S+):(\s+)(\S+) (\S+)/: the key's ":" ends the first word, as
    // \s+ must follow it; the value is the whole next word, followed by
    // exactly one space and a word.
    size_t key_end = SkipNonSpaces(line, 0);
    if (key_end < 2 || line[key_end - 1] != ':') continue;
    size_t value_start = SkipSpaces(line, key_end);
    if (value_start == key_end || value_start == line.size()) continue;
    size_t value_end = SkipNonSpaces(line, value_start);
    if (value_end + 1 >= line.size() || line[value_end] != ' ' ||
        IsPerlSpace(line[value_end + 1])) {
      continue;
    }
    if (line.substr(0, key_end - 1) == "MemTotal") {
      kb = line.substr(value_start, value_end - value_start);
    }
  }
  if (!kb) return Error(Code::kInternal, "no MemTotal line in /proc/meminfo");
  int64_t value = 0;
  for (char c : *kb) {
    if (!IsDigit(c) || value > (std::numeric_limits<int64_t>::max() - 9) / 10) {
      return Error(Code::kInternal,
                   "bad MemTotal in /proc/meminfo: " + Quote(*kb));
    }
    value = value * 10 + (c - '0');
  }
  return value / 1024;
}

std::optional<std::string> ParseResolvConfDomain(std::string_view resolv_conf) {
  std::optional<std::string> domain;
  for (std::string_view line : Lines(resolv_conf)) {
    size_t pos = SkipSpaces(line, 0);
    std::string_view rest = line.substr(pos);
    if (!rest.starts_with("domain") && !rest.starts_with("search")) continue;
    pos += 6;
    size_t word = SkipSpaces(line, pos);
    if (word == pos || word == line.size()) continue;
    domain = std::string(line.substr(word, SkipNonSpaces(line, word) - word));
  }
  return domain;
}

std::string HostFqdn(const FqdnSources& sources) {
  std::string host = CleanName(sources.nodename);
  std::optional<std::string> domain = HostDomain(host, sources);
  // A dotless host and a dotted domain are trusted without a lookup.
  if (host.find('.') == std::string::npos && domain &&
      domain->find('.') != std::string::npos) {
    return host + "." + *domain;
  }
  if (IsDottedQuad(host)) return host;
  // Try host's labels joined with domain's, shortening host from the
  // right, then dropping domain's first label; the loop also stops at a
  // domain label that Perl finds false ("" or "0").
  std::vector<std::string> host_labels = SplitDots(host);
  std::vector<std::string> domain_labels =
      domain ? SplitDots(*domain) : std::vector<std::string>{};
  while (true) {
    for (size_t n = host_labels.size(); n > 0; --n) {
      std::string name = JoinDots(host_labels, n, domain_labels);
      std::optional<HostEntry> entry = Lookup(sources, name);
      if (entry && PerlTrue(entry->name)) return name;
    }
    if (domain_labels.empty()) return "";
    std::string first = domain_labels.front();
    domain_labels.erase(domain_labels.begin());
    if (!PerlTrue(first)) return "";
  }
}

Result<HostFacts> ReadHostFacts() {
  HostFacts facts;
  // Sys::CPU::cpu_count() on Linux.
  int64_t cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) {
    return Error(Code::kInternal,
                 "count online CPUs: sysconf gave " + std::to_string(cpus));
  }
  facts.cpus = cpus;
  Result<std::string> meminfo = ReadSmallFile("/proc/meminfo");
  if (!meminfo.ok()) return meminfo.status();
  Result<int64_t> mem_mb = ParseMemTotalMb(*meminfo);
  if (!mem_mb.ok()) return mem_mb.status();
  facts.mem_mb = *mem_mb;
  facts.fqdn = HostFqdn(RealFqdnSources());
  return facts;
}

std::string ExpandMacros(std::string_view text, const HostFacts& facts) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    std::string_view rest = text.substr(i);
    if (rest.starts_with("CPU")) {
      out += std::to_string(facts.cpus);
      i += 3;
    } else if (rest.starts_with("FQDN")) {
      out += facts.fqdn;
      i += 4;
    } else if (rest.starts_with("MEMMB")) {
      out += std::to_string(facts.mem_mb);
      i += 5;
    } else {
      out += text[i++];
    }
  }
  return out;
}

Result<Fraction> EvalExpression(std::string_view expr) {
  return Evaluator(expr).Run();
}

Result<Lease> ParseLease(std::string_view arg, const HostFacts& facts) {
  Result<Lease> lease = ParseLeaseBody(arg, facts);
  if (!lease.ok()) return lease.status().With("--lease " + Quote(arg));
  return lease;
}

}  // namespace conch::switchman
