#include "actors/ticket_keys.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace pl {

namespace {

using pkey_ptr = std::shared_ptr<EVP_PKEY>;

pkey_ptr own(EVP_PKEY* key) {
  return pkey_ptr{key, EVP_PKEY_free};
}

/// Returns OpenSSL's most recent error as text and clears its error queue.
std::string openssl_error() {
  unsigned long code = ERR_get_error();
  std::string text = "unknown OpenSSL error";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    text = buf;
  }
  ERR_clear_error();
  return text;
}

std::string errno_text(int err) {
  return std::strerror(err);
}

/// Makes sure a parsed key is an Ed25519 key.
outcome<void> require_ed25519(const pkey_ptr& key) {
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
    return failure{std::string{"not an Ed25519 key ("} + EVP_PKEY_get0_type_name(key.get()) + ")"};
  return {};
}

std::string write_pem(const pkey_ptr& key, bool private_part) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()), BIO_free};
  int ok = private_part ? PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0,
                                                   nullptr, nullptr)
                        : PEM_write_bio_PUBKEY(bio.get(), key.get());
  if (bio == nullptr || ok != 1) {
    // Only memory exhaustion makes a memory BIO fail.
    std::fprintf(stderr, "pl::ticket_keys: cannot write PEM: %s\n", openssl_error().c_str());
    std::abort();
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

/// Refuses to let OpenSSL prompt on the terminal for an encrypted PEM's passphrase.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

outcome<std::string> read_file(const std::filesystem::path& file, bool private_key) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return failure{file.string() + ": " + errno_text(errno)};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return failure{file.string() + ": " + errno_text(err)};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return failure{file.string() + ": not a regular file"};
  }
  if (private_key && (st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return failure{file.string() + ": private key is accessible by group or others (mode " + mode +
                   "); chmod 600 it"};
  }
  if (st.st_size > 64 * 1024) {
    ::close(fd);
    return failure{file.string() + ": too large for a key file"};
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      return failure{file.string() + ": " + errno_text(err)};
    }
    if (n == 0)
      break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

/// Writes `text` to a new file `tmp` with `mode` (set explicitly, whatever the umask).
outcome<void> write_new_file(const std::filesystem::path& tmp, const std::string& text,
                             mode_t mode) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return failure{tmp.string() + ": " + errno_text(errno)};
  auto fail = [&](int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return failure{tmp.string() + ": " + errno_text(err)};
  };
  if (::fchmod(fd, mode) != 0)
    return fail(errno);
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail(errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0)
    return fail(errno);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return failure{tmp.string() + ": " + errno_text(err)};
  }
  return {};
}

std::filesystem::path temp_beside(const std::filesystem::path& file) {
  auto tmp = file;
  tmp += ".tmp." + std::to_string(::getpid());
  return tmp;
}

/// Replaces `file` atomically with `text` at `mode`.
outcome<void> replace_file(const std::filesystem::path& file, const std::string& text,
                           mode_t mode) {
  auto tmp = temp_beside(file);
  ::unlink(tmp.c_str()); // a leftover of a crashed writer with our pid
  if (auto ok = write_new_file(tmp, text, mode); !ok)
    return ok;
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return failure{file.string() + ": " + errno_text(err)};
  }
  return {};
}

ticket_key_id compute_id(const std::array<std::uint8_t, 32>& raw) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(raw.data(), raw.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    std::fprintf(stderr, "pl::ticket_keys: SHA-256 failed: %s\n", openssl_error().c_str());
    std::abort();
  }
  ticket_key_id id{};
  std::memcpy(id.data(), digest, id.size());
  return id;
}

std::array<std::uint8_t, 32> raw_public(EVP_PKEY* key) {
  std::array<std::uint8_t, 32> raw{};
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &len) != 1 || len != raw.size()) {
    std::fprintf(stderr, "pl::ticket_keys: no raw public key: %s\n", openssl_error().c_str());
    std::abort();
  }
  return raw;
}

/// Derives the public half of a private Ed25519 key.
verify_key public_of(EVP_PKEY* key) {
  auto pub = verify_key::from_raw(raw_public(key));
  if (!pub) {
    std::fprintf(stderr, "pl::ticket_keys: %s\n", pub.error().c_str());
    std::abort();
  }
  return *pub;
}

} // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> parse_hex(std::string_view text) {
  if (text.size() != 2 * N)
    return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) {
    int hi = nibble(text[2 * i]);
    int lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

template std::optional<ticket_key_id> parse_hex<8>(std::string_view);
template std::optional<std::array<std::uint8_t, 16>> parse_hex<16>(std::string_view);

// -- verify_key ---------------------------------------------------------------

verify_key::verify_key(std::shared_ptr<evp_pkey_st> key)
    : key_(std::move(key))
    , id_(compute_id(raw_public(key_.get()))) {}

outcome<verify_key> verify_key::from_pem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free};
  if (bio == nullptr)
    return failure{"cannot read PEM: " + openssl_error()};
  auto key = own(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
  if (key == nullptr)
    return failure{"no PUBLIC KEY PEM block (" + openssl_error() + ")"};
  if (auto ok = require_ed25519(key); !ok)
    return failure{ok.error()};
  return verify_key{std::move(key)};
}

outcome<verify_key> verify_key::from_raw(std::span<const std::uint8_t> raw) {
  if (raw.size() != 32)
    return failure{"an Ed25519 public key has 32 bytes, not " + std::to_string(raw.size())};
  auto key = own(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size()));
  if (key == nullptr)
    return failure{"not an Ed25519 public key (" + openssl_error() + ")"};
  return verify_key{std::move(key)};
}

outcome<verify_key> verify_key::load(const std::filesystem::path& file) {
  auto text = read_file(file, false);
  if (!text)
    return failure{text.error()};
  auto key = from_pem(*text);
  if (!key)
    return failure{file.string() + ": " + key.error()};
  return key;
}

std::string verify_key::pem() const {
  return write_pem(key_, false);
}

std::array<std::uint8_t, 32> verify_key::raw() const {
  return raw_public(key_.get());
}

bool verify_key::verify(std::span<const std::uint8_t> message,
                        std::span<const std::uint8_t> signature) const {
  if (signature.size() != 64)
    return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                            message.size());
  ERR_clear_error();
  return rc == 1;
}

outcome<void> verify_key::save(const std::filesystem::path& file) const {
  return replace_file(file, pem(), 0644);
}

// -- signing_key --------------------------------------------------------------

signing_key::signing_key(std::shared_ptr<evp_pkey_st> key, verify_key pub)
    : key_(std::move(key))
    , public_(std::move(pub)) {}

outcome<signing_key> signing_key::generate() {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx{
      EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free};
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &raw) != 1)
    return failure{"cannot generate an Ed25519 key: " + openssl_error()};
  auto key = own(raw);
  auto pub = public_of(key.get());
  return signing_key{std::move(key), std::move(pub)};
}

outcome<signing_key> signing_key::from_pem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free};
  if (bio == nullptr)
    return failure{"cannot read PEM: " + openssl_error()};
  auto key = own(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (key == nullptr)
    return failure{"no unencrypted PRIVATE KEY PEM block (" + openssl_error() + ")"};
  if (auto ok = require_ed25519(key); !ok)
    return failure{ok.error()};
  auto pub = public_of(key.get());
  return signing_key{std::move(key), std::move(pub)};
}

outcome<signing_key> signing_key::load(const std::filesystem::path& file) {
  auto text = read_file(file, true);
  if (!text)
    return failure{text.error()};
  auto key = from_pem(*text);
  if (!key)
    return failure{file.string() + ": " + key.error()};
  return key;
}

outcome<signing_key> signing_key::load_or_generate(const std::filesystem::path& file) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) == 0)
    return load(file);
  if (errno != ENOENT)
    return failure{file.string() + ": " + errno_text(errno)};
  auto key = generate();
  if (!key)
    return key;
  auto tmp = temp_beside(file);
  ::unlink(tmp.c_str());
  if (auto ok = write_new_file(tmp, key->pem(), 0600); !ok)
    return failure{ok.error()};
  // link() never replaces: whoever created `file` first wins, and we load theirs.
  int rc = ::link(tmp.c_str(), file.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST)
      return load(file);
    return failure{file.string() + ": " + errno_text(err)};
  }
  return key;
}

std::string signing_key::pem() const {
  return write_pem(key_, true);
}

outcome<void> signing_key::save(const std::filesystem::path& file) const {
  return replace_file(file, pem(), 0600);
}

ticket_signature signing_key::sign(std::span<const std::uint8_t> message) const {
  ticket_signature sig{};
  std::size_t len = sig.size();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != sig.size()) {
    // Ed25519 signing of an in-memory message fails only when memory is exhausted.
    std::fprintf(stderr, "pl::signing_key: cannot sign: %s\n", openssl_error().c_str());
    std::abort();
  }
  return sig;
}

// -- ticket_keyring -----------------------------------------------------------

void ticket_keyring::add(verify_key key) {
  auto id = key.id();
  keys_.insert_or_assign(id, std::move(key));
}

const verify_key* ticket_keyring::find(const ticket_key_id& id) const {
  auto i = keys_.find(id);
  return i == keys_.end() ? nullptr : &i->second;
}

} // namespace pl
