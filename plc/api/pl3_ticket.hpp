#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pl::plc::api {

/// One `<resource>` of a PlanetLab 3.0 ticket's rspec: `<resource
/// name="nm_cpu_share"><value name="cpu_share" type="integer">32</value>`.
struct pl3_resource {
  std::string name;       ///< The PL3 attribute name (nm_cpu_share, ...).
  std::string value_name; ///< The value's name (cpu_share, rate, quota, ...).
  std::string type;       ///< "integer" or "string".
  std::string value;
  bool operator==(const pl3_resource&) const = default;
};

/// What a PlanetLab 3.0 slice ticket says (the legacy SliceGetTicket).
struct pl3_ticket {
  int slice_id = 0;
  std::string name;
  std::int64_t expires = 0; ///< Epoch seconds (the `expiry` attribute).
  struct node {
    int node_id;
    std::string hostname;
  };
  struct user {
    int person_id;
    std::string email;
  };
  std::vector<node> nodes;
  std::vector<user> users;
  std::vector<pl3_resource> rspec;
};

/// Maps slice tag `tagname` with `value` to its PL3 resource, as PLCAPI's
/// SliceGetTicket did: cpu_share -> nm_cpu_share/cpu_share; net_share,
/// net_min_rate, net_max_rate -> nm_net_*/rate; net_max_kbyte ->
/// nm_net_avg_rate/rate in bit/s (KiB a day spread over the day); the net_i2_*
/// tags likewise as nm_net_exempt_*; disk_max -> nm_disk_quota/quota;
/// plc_agent_version, plc_slice_type, plc_ticket_pubkey -> version, type, key
/// strings; any other tag -> `<resource name=T><value name=T type="string">`.
/// Rates are kbit/s in PLC and bit/s in PL3, so every *_rate is multiplied by
/// 1000 (the original forgot this for net_min_rate and net_max_rate, giving
/// PL3 nodes a thousandth of the rate). `initscript` is not handled here: its
/// value is an initscript id, which needs the database. A value that is not
/// an integer where one is expected keeps its text with type "string".
pl3_resource pl3_resource_of(const std::string& tagname, const std::string& value);

/// Returns the ticket as PLCAPI's SliceGetTicket wrote it before signing:
/// an XML declaration, `<ticket><slice id name expiry>` with `<nodes>`,
/// `<users>` and `<rspec>`, then the enveloped XML-DSig template (C14N
/// 20010315, rsa-sha1, sha1 digest, Reference URI="") with empty DigestValue
/// and SignatureValue, indented by two spaces per level.
std::string pl3_ticket_template(const pl3_ticket& ticket);

/// Signs PlanetLab 3.0 tickets with PLC's RSA key (PLC_API_TICKET_KEY) as
/// `xmlsec1 --sign --privkey-pem KEY` did, through libxmlsec1 (OpenSSL).
/// Safe to use from several threads at once.
class pl3_ticket_signer {
public:
  /// Loads the PEM private key at `pem`; throws std::runtime_error naming
  /// the file when it cannot be read or is not an RSA private key.
  explicit pl3_ticket_signer(const std::filesystem::path& pem);
  ~pl3_ticket_signer();
  pl3_ticket_signer(const pl3_ticket_signer&) = delete;
  pl3_ticket_signer& operator=(const pl3_ticket_signer&) = delete;

  /// Fills the signature template of `template_xml` (pl3_ticket_template)
  /// and returns the signed document; throws std::runtime_error if xmlsec
  /// fails.
  std::string sign(std::string_view template_xml) const;

  /// Returns the PEM public key that verifies this signer's tickets.
  const std::string& public_key_pem() const { return public_pem_; }

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string public_pem_;
};

/// Tells whether `signed_xml` is a PL3 ticket whose enveloped signature
/// verifies with the PEM public (or private) key `key_pem`: exactly one
/// Signature element, a child of `<ticket>`, with one Reference URI="" and
/// only the enveloped-signature and C14N transforms, rsa-sha1 over sha1.
/// Returns false for malformed XML, a wrong key or any changed byte that
/// C14N does not discard.
bool verify_pl3_ticket(std::string_view signed_xml, const std::string& key_pem);

/// Makes a 2048-bit RSA key for PL3 tickets: the private key (PKCS#8 PEM,
/// mode 0600) at `private_pem` and its public key (SubjectPublicKeyInfo PEM,
/// mode 0644) at `public_pem`, creating their directories. Throws
/// std::runtime_error on failure.
void generate_pl3_ticket_key(const std::filesystem::path& private_pem,
                             const std::filesystem::path& public_pem);

/// Returns the public key file kept beside private key `private_pem`
/// (`<file>.pub`).
std::filesystem::path pl3_ticket_public_key_path(const std::filesystem::path& private_pem);

/// Generates the key pair at `private_pem` unless the private key exists;
/// returns whether it made one (plcd --dev).
bool ensure_pl3_ticket_key(const std::filesystem::path& private_pem);

} // namespace pl::plc::api
