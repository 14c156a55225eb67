#include "plc/api/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <stdexcept>
#include <vector>

namespace pl::plc::api {

namespace {

constexpr std::size_t salt_bytes = 16;
constexpr std::size_t hash_bytes = 32;

std::string b64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  while (!out.empty() && out.back() == '=')
    out.pop_back();
  return out;
}

bool unb64(std::string_view text, std::vector<unsigned char>& out) {
  std::string padded{text};
  while (padded.size() % 4 != 0)
    padded.push_back('=');
  out.assign(3 * padded.size() / 4 + 1, 0);
  int len = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(padded.data()),
                            static_cast<int>(padded.size()));
  if (len < 0)
    return false;
  std::size_t pad = padded.size() - text.size();
  out.resize(static_cast<std::size_t>(len) - pad);
  return true;
}

bool derive(std::string_view password, const unsigned char* salt, std::size_t salt_len,
            kdf_cost cost, unsigned char* out, std::size_t out_len) {
  std::uint64_t n = std::uint64_t{1} << cost.log2_n;
  std::uint64_t max_mem = 128 * n * static_cast<std::uint64_t>(cost.r) * 2 + (1u << 20);
  return EVP_PBE_scrypt(password.data(), password.size(), salt, salt_len, n,
                        static_cast<std::uint64_t>(cost.r), static_cast<std::uint64_t>(cost.p),
                        max_mem, out, out_len) == 1;
}

/// Digests the concatenation of `parts` with MD5; MD5-crypt needs nothing else.
class md5 {
public:
  md5()
      : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_md5(), nullptr) != 1)
      throw std::runtime_error("OpenSSL MD5 unavailable");
  }
  md5(const md5&) = delete;
  md5& operator=(const md5&) = delete;
  ~md5() { EVP_MD_CTX_free(ctx_); }

  md5& add(const void* data, std::size_t n) {
    if (EVP_DigestUpdate(ctx_, data, n) != 1)
      throw std::runtime_error("MD5 update failed");
    return *this;
  }
  md5& add(std::string_view s) { return add(s.data(), s.size()); }

  std::array<unsigned char, 16> finish() {
    std::array<unsigned char, 16> out{};
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1 || len != out.size())
      throw std::runtime_error("MD5 final failed");
    return out;
  }

private:
  EVP_MD_CTX* ctx_;
};

bool parse_int(std::string_view s, int& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

} // namespace

std::string hash_password(std::string_view password, kdf_cost cost) {
  unsigned char salt[salt_bytes];
  unsigned char hash[hash_bytes];
  if (RAND_bytes(salt, sizeof salt) != 1)
    throw std::runtime_error("no random bytes for a password salt");
  if (!derive(password, salt, sizeof salt, cost, hash, sizeof hash))
    throw std::runtime_error("scrypt failed (parameters out of range?)");
  return "$scrypt$ln=" + std::to_string(cost.log2_n) + ",r=" + std::to_string(cost.r) +
         ",p=" + std::to_string(cost.p) + "$" + b64(salt, sizeof salt) + "$" +
         b64(hash, sizeof hash);
}

std::string md5_crypt(std::string_view password, std::string_view salt) {
  constexpr std::string_view magic = "$1$";
  if (salt.substr(0, magic.size()) == magic)
    salt.remove_prefix(magic.size());
  salt = salt.substr(0, std::min(salt.find('$'), std::size_t{8}));

  auto alternate = md5{}.add(password).add(salt).add(password).finish();
  md5 ctx;
  ctx.add(password).add(magic).add(salt);
  for (std::size_t left = password.size(); left > 0; left -= std::min(left, std::size_t{16}))
    ctx.add(alternate.data(), std::min(left, std::size_t{16}));
  // The algorithm's quirk: a zero byte for each set bit, the first password
  // character for each clear bit.
  for (std::size_t bits = password.size(); bits != 0; bits >>= 1) {
    if (bits & 1)
      ctx.add("\0", 1);
    else
      ctx.add(password.data(), 1);
  }
  auto digest = ctx.finish();
  for (int round = 0; round < 1000; ++round) {
    md5 r;
    if (round & 1)
      r.add(password);
    else
      r.add(digest.data(), digest.size());
    if (round % 3)
      r.add(salt);
    if (round % 7)
      r.add(password);
    if (round & 1)
      r.add(digest.data(), digest.size());
    else
      r.add(password);
    digest = r.finish();
  }

  static constexpr char itoa64[] =
      "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out{magic};
  out.append(salt).push_back('$');
  auto put = [&](unsigned a, unsigned b, unsigned c, int chars) {
    unsigned v = (a << 16) | (b << 8) | c;
    for (int i = 0; i < chars; ++i, v >>= 6)
      out.push_back(itoa64[v & 0x3f]);
  };
  put(digest[0], digest[6], digest[12], 4);
  put(digest[1], digest[7], digest[13], 4);
  put(digest[2], digest[8], digest[14], 4);
  put(digest[3], digest[9], digest[15], 4);
  put(digest[4], digest[10], digest[5], 4);
  put(0, 0, digest[11], 2);
  return out;
}

bool needs_rehash(std::string_view stored) {
  return stored.substr(0, 3) == "$1$";
}

bool verify_password(std::string_view password, std::string_view stored) {
  if (stored.substr(0, 3) == "$1$") {
    // $1$salt$ + 22 characters; anything else is not a hash we wrote or imported.
    auto end_of_salt = stored.find('$', 3);
    if (end_of_salt == std::string_view::npos || end_of_salt - 3 > 8 ||
        stored.size() != end_of_salt + 1 + 22)
      return false;
    std::string actual = md5_crypt(password, stored.substr(0, end_of_salt));
    return actual.size() == stored.size() &&
           CRYPTO_memcmp(actual.data(), stored.data(), stored.size()) == 0;
  }
  constexpr std::string_view prefix = "$scrypt$";
  if (stored.substr(0, prefix.size()) != prefix)
    return false;
  stored.remove_prefix(prefix.size());
  // ln=14,r=8,p=5$salt$hash
  auto dollar1 = stored.find('$');
  auto dollar2 = dollar1 == std::string_view::npos ? dollar1 : stored.find('$', dollar1 + 1);
  if (dollar2 == std::string_view::npos)
    return false;
  std::string_view params = stored.substr(0, dollar1);
  kdf_cost cost{};
  int seen = 0;
  while (!params.empty()) {
    auto comma = params.find(',');
    std::string_view item = params.substr(0, comma);
    params = comma == std::string_view::npos ? std::string_view{} : params.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      return false;
    auto key = item.substr(0, eq);
    auto value = item.substr(eq + 1);
    int* target = key == "ln"  ? &cost.log2_n
                  : key == "r" ? &cost.r
                  : key == "p" ? &cost.p
                               : nullptr;
    if (!target || !parse_int(value, *target))
      return false;
    ++seen;
  }
  if (seen != 3 || cost.log2_n < 1 || cost.log2_n > 22 || cost.r < 1 || cost.p < 1 || cost.p > 64)
    return false;
  std::vector<unsigned char> salt, expected;
  if (!unb64(stored.substr(dollar1 + 1, dollar2 - dollar1 - 1), salt) ||
      !unb64(stored.substr(dollar2 + 1), expected) || expected.size() != hash_bytes)
    return false;
  std::vector<unsigned char> actual(expected.size());
  if (!derive(password, salt.data(), salt.size(), cost, actual.data(), actual.size()))
    return false;
  return CRYPTO_memcmp(actual.data(), expected.data(), expected.size()) == 0;
}

} // namespace pl::plc::api
