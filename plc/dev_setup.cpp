#include "plc/dev_setup.hpp"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace pl::plc {

namespace {

template <class T, void (*Free)(T*)>
struct deleter {
  void operator()(T* p) const { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;

void ssl_check(bool ok, const char* what) {
  if (!ok)
    throw std::runtime_error(std::string{"certificate generation failed at "} + what);
}

void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ssl_check(ext != nullptr, value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  ssl_check(ok == 1, "X509_add_ext");
}

/// Opens `path` for writing with `mode` from the start, so a key is never world-readable.
FILE* open_private(const fs::path& path, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    throw std::runtime_error("cannot write " + path.string());
  FILE* f = fdopen(fd, "w");
  if (!f)
    throw std::runtime_error("cannot write " + path.string());
  return f;
}

} // namespace

bool ensure_self_signed_certificate(const fs::path& cert_pem, const fs::path& key_pem,
                                    const std::string& common_name) {
  if (fs::exists(cert_pem) && fs::exists(key_pem))
    return false;
  fs::create_directories(cert_pem.parent_path());
  fs::create_directories(key_pem.parent_path());

  pkey_ptr key{EVP_EC_gen("P-256")};
  ssl_check(key != nullptr, "EVP_EC_gen");
  x509_ptr cert{X509_new()};
  ssl_check(cert != nullptr, "X509_new");
  ssl_check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  unsigned char serial[16];
  ssl_check(RAND_bytes(serial, sizeof serial) == 1, "RAND_bytes");
  serial[0] &= 0x7f; // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  ssl_check(bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())), "serial");
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 60 * 60);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("PlanetLab PLC (dev)"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  ssl_check(X509_set_issuer_name(cert.get(), name) == 1, "issuer");
  ssl_check(X509_set_pubkey(cert.get(), key.get()) == 1, "pubkey");
  std::string san = "DNS:" + common_name + ",DNS:localhost,IP:127.0.0.1,IP:::1";
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), NID_subject_alt_name, san.c_str());
  add_extension(cert.get(), NID_subject_key_identifier, "hash");
  add_extension(cert.get(), NID_authority_key_identifier, "keyid:always");
  ssl_check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");

  FILE* kf = open_private(key_pem, 0600);
  bool key_ok = PEM_write_PrivateKey(kf, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  bool key_closed = std::fclose(kf) == 0;
  ssl_check(key_ok && key_closed, "writing the key");
  FILE* cf = open_private(cert_pem, 0644);
  bool cert_ok = PEM_write_X509(cf, cert.get()) == 1;
  bool cert_closed = std::fclose(cf) == 0;
  ssl_check(cert_ok && cert_closed, "writing the certificate");
  return true;
}

std::string random_password(std::size_t length) {
  static constexpr char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_";
  constexpr std::size_t n = sizeof alphabet - 1;
  std::string out;
  while (out.size() < length) {
    unsigned char b[32];
    if (RAND_bytes(b, sizeof b) != 1)
      throw std::runtime_error("no random bytes");
    for (unsigned char c : b)
      if (c < 256 - 256 % n && out.size() < length) // no modulo bias
        out.push_back(alphabet[c % n]);
  }
  return out;
}

} // namespace pl::plc
