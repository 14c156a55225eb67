#pragma once

// A throwaway self-signed certificate (EC P-256) for the plc.http tests, written into a private
// temporary directory that is removed again when the object dies.

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace pl::plc::http::test {

/// Owns a temporary directory holding `cert.pem` and `key.pem`.
class tls_files {
public:
  tls_files() {
    auto pattern = (std::filesystem::temp_directory_path() / "plc_http_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("tls_files: mkdtemp failed");
    dir_ = pattern;
    cert_ = (dir_ / "cert.pem").string();
    key_ = (dir_ / "key.pem").string();

    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_EC_gen("P-256"), EVP_PKEY_free};
    std::unique_ptr<X509, decltype(&X509_free)> x509{X509_new(), X509_free};
    check(key && x509, "allocate key and certificate");
    check(X509_set_version(x509.get(), 2) == 1, "set version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), 1) == 1, "set serial");
    check(X509_gmtime_adj(X509_getm_notBefore(x509.get()), -60) != nullptr, "set notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(x509.get()), 24 * 3600) != nullptr, "set notAfter");
    check(X509_set_pubkey(x509.get(), key.get()) == 1, "set public key");
    auto* name = X509_get_subject_name(x509.get());
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                     0) == 1,
          "set CN");
    check(X509_set_issuer_name(x509.get(), name) == 1, "set issuer");
    check(X509_sign(x509.get(), key.get(), EVP_sha256()) > 0, "sign");

    write_pem(key_, [&](BIO* out) {
      return PEM_write_bio_PrivateKey(out, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    write_pem(cert_, [&](BIO* out) { return PEM_write_bio_X509(out, x509.get()); });
  }

  ~tls_files() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  tls_files(const tls_files&) = delete;
  tls_files& operator=(const tls_files&) = delete;

  const std::string& cert() const { return cert_; }
  const std::string& key() const { return key_; }
  const std::filesystem::path& dir() const { return dir_; }

private:
  void check(bool ok, const char* what) {
    if (!ok) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      throw std::runtime_error(std::string{"tls_files: cannot "} + what);
    }
  }

  template <class Write>
  void write_pem(const std::string& path, Write write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> out{BIO_new_file(path.c_str(), "w"), BIO_free};
    check(out != nullptr, "create PEM file");
    check(write(out.get()) == 1, "write PEM file");
  }

  std::filesystem::path dir_;
  std::string cert_;
  std::string key_;
};

} // namespace pl::plc::http::test
