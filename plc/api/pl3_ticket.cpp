#include "plc/api/pl3_ticket.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>
#include <fcntl.h>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace pl::plc::api {

namespace {

// --- the ticket's text ---

/// Appends `s` escaped for XML; `attribute` also escapes whitespace that
/// attribute-value normalisation would otherwise turn into spaces. Control
/// characters XML 1.0 cannot carry become U+FFFD.
void append_escaped(std::string& out, std::string_view s, bool attribute) {
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    case '\n':
      out += attribute ? "&#10;" : "\n";
      break;
    case '\r':
      out += "&#13;";
      break;
    case '\t':
      out += attribute ? "&#9;" : "\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20)
        out += "\xEF\xBF\xBD";
      else
        out += c;
    }
  }
}

/// Writes elements two spaces deeper per level, one per line, as PLCAPI's
/// PrettyXMLGenerator did.
class xml_writer {
public:
  using attrs = std::vector<std::pair<std::string, std::string>>;

  void open(const std::string& name, const attrs& a = {}) {
    indent();
    tag(name, a, false);
    out_ += '\n';
    ++depth_;
  }
  void close(const std::string& name) {
    --depth_;
    indent();
    out_ += "</" + name + ">\n";
  }
  void empty(const std::string& name, const attrs& a = {}) {
    indent();
    tag(name, a, true);
    out_ += '\n';
  }
  void text_element(const std::string& name, const attrs& a, const std::string& text) {
    indent();
    tag(name, a, false);
    append_escaped(out_, text, false);
    out_ += "</" + name + ">\n";
  }
  std::string& str() { return out_; }

private:
  void indent() { out_.append(2 * depth_, ' '); }
  void tag(const std::string& name, const attrs& a, bool self_closing) {
    out_ += '<' + name;
    for (const auto& [k, v] : a) {
      out_ += ' ' + k + "=\"";
      append_escaped(out_, v, true);
      out_ += '"';
    }
    out_ += self_closing ? "/>" : ">";
  }

  std::string out_ = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  int depth_ = 0;
};

std::optional<std::int64_t> integer_of(const std::string& text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return v;
}

// --- libxmlsec1 ---

/// Sends xmlsec's error reports to the log instead of stderr: a tampered
/// ticket is an expected outcome, not something to print.
void log_xmlsec_error(const char* /*file*/, int /*line*/, const char* func,
                      const char* error_object, const char* error_subject, int reason,
                      const char* msg) {
  spdlog::debug("plc.pl3_ticket event=xmlsec_error func={} object={} subject={} reason={} msg={}",
                func ? func : "", error_object ? error_object : "",
                error_subject ? error_subject : "", reason, msg ? msg : "");
}

/// Initialises libxml2 and xmlsec with OpenSSL once per process (never shut
/// down: both are process-wide and other threads may still sign).
void init_xmlsec() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    if (xmlSecInit() < 0)
      throw std::runtime_error("xmlsec initialisation failed");
    if (xmlSecCheckVersion() != 1)
      throw std::runtime_error("xmlsec: the loaded library does not match its headers");
    if (xmlSecCryptoAppInit(nullptr) < 0 || xmlSecCryptoInit() < 0)
      throw std::runtime_error("xmlsec-openssl initialisation failed");
    xmlSecErrorsSetCallback(log_xmlsec_error);
  });
}

struct doc_deleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using doc_ptr = std::unique_ptr<xmlDoc, doc_deleter>;

struct dsig_deleter {
  void operator()(xmlSecDSigCtx* c) const { xmlSecDSigCtxDestroy(c); }
};
using dsig_ptr = std::unique_ptr<xmlSecDSigCtx, dsig_deleter>;

struct key_deleter {
  void operator()(xmlSecKey* k) const { xmlSecKeyDestroy(k); }
};
using key_ptr = std::unique_ptr<xmlSecKey, key_deleter>;

/// Parses without network access, DTD loading or entity expansion, and
/// without printing parser errors.
doc_ptr parse(std::string_view xml) {
  if (xml.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return nullptr;
  return doc_ptr{xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "ticket.xml", nullptr,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)};
}

/// Returns the only Signature element of the document, which must be a
/// child of the root `<ticket>`; nullptr otherwise.
xmlNode* signature_node(xmlDoc* doc) {
  xmlNode* root = xmlDocGetRootElement(doc);
  if (!root || xmlStrcmp(root->name, BAD_CAST "ticket") != 0 || root->ns)
    return nullptr;
  xmlNode* found = nullptr;
  int count = 0;
  for (xmlNode* n = root->children; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE && xmlSecCheckNodeName(n, xmlSecNodeSignature, xmlSecDSigNs)) {
      found = n;
      ++count;
    }
  // A second Signature anywhere deeper would be signed content, but no
  // legitimate ticket has one: refuse it too.
  xmlNode* any = xmlSecFindNode(root, xmlSecNodeSignature, xmlSecDSigNs);
  if (count != 1 || any != found)
    return nullptr;
  return found;
}

/// Limits a signature context to what a PL3 ticket uses.
void restrict_transforms(xmlSecDSigCtx* ctx) {
  ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
  if (xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) < 0 ||
      xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformInclC14NId) < 0 ||
      xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha1Id) < 0 ||
      xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformInclC14NId) < 0 ||
      xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha1Id) < 0)
    throw std::runtime_error("xmlsec: cannot restrict the signature transforms");
}

key_ptr load_key(std::string_view pem) {
  init_xmlsec();
  return key_ptr{xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte*>(pem.data()),
                                              static_cast<xmlSecSize>(pem.size()),
                                              xmlSecKeyDataFormatPem, nullptr, nullptr, nullptr)};
}

// --- OpenSSL ---

struct pkey_deleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
struct bio_deleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string{};
}

std::string read_file(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    throw std::runtime_error("cannot read PL3 ticket key " + path.string());
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
    out.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed)
    throw std::runtime_error("cannot read PL3 ticket key " + path.string());
  return out;
}

/// Writes `text` to `path` with `mode` through a temporary file and a rename,
/// so a crash never leaves half a key.
void write_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    throw std::runtime_error("cannot write " + tmp.string());
  bool ok = ::fchmod(fd, mode) == 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    ok = n > 0;
    done += ok ? static_cast<std::size_t>(n) : 0;
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + path.string());
  }
}

} // namespace

pl3_resource pl3_resource_of(const std::string& tagname, const std::string& value) {
  struct mapping {
    const char* name;
    const char* value_name;
    bool integer;
    std::int64_t (*cast)(std::int64_t);
  };
  auto same = [](std::int64_t v) { return v; };
  auto kbps_to_bps = [](std::int64_t kbps) { return kbps * 1000; };
  // KiB a day as the average bit rate over the day, truncated as the
  // original's integer arithmetic did.
  auto max_kbyte_to_bps = [](std::int64_t kbyte) { return kbyte * 1000 * 8 / 24 / 60 / 60; };
  static const std::map<std::string, mapping> table = {
      {"cpu_share", {"nm_cpu_share", "cpu_share", true, same}},
      {"net_share", {"nm_net_share", "rate", true, same}},
      {"net_min_rate", {"nm_net_min_rate", "rate", true, kbps_to_bps}},
      {"net_max_rate", {"nm_net_max_rate", "rate", true, kbps_to_bps}},
      {"net_max_kbyte", {"nm_net_avg_rate", "rate", true, max_kbyte_to_bps}},
      {"net_i2_share", {"nm_net_exempt_share", "rate", true, same}},
      {"net_i2_min_rate", {"nm_net_exempt_min_rate", "rate", true, kbps_to_bps}},
      {"net_i2_max_rate", {"nm_net_exempt_max_rate", "rate", true, kbps_to_bps}},
      {"net_i2_max_kbyte", {"nm_net_exempt_avg_rate", "rate", true, max_kbyte_to_bps}},
      {"disk_max", {"nm_disk_quota", "quota", true, same}},
      {"plc_agent_version", {"plc_agent_version", "version", false, same}},
      {"plc_slice_type", {"plc_slice_type", "type", false, same}},
      {"plc_ticket_pubkey", {"plc_ticket_pubkey", "key", false, same}},
  };
  auto it = table.find(tagname);
  if (it == table.end())
    return {tagname, tagname, "string", value};
  const mapping& m = it->second;
  if (!m.integer)
    return {m.name, m.value_name, "string", value};
  auto v = integer_of(value);
  // Values passed the resource table's checks; one written before a check
  // existed is kept as text rather than made up.
  if (!v || *v < 0 || *v > std::numeric_limits<std::int64_t>::max() / 8000)
    return {m.name, m.value_name, "string", value};
  return {m.name, m.value_name, "integer", std::to_string(m.cast(*v))};
}

std::string pl3_ticket_template(const pl3_ticket& t) {
  xml_writer w;
  w.open("ticket");
  w.open("slice", {{"id", std::to_string(t.slice_id)},
                   {"name", t.name},
                   {"expiry", std::to_string(t.expires)}});
  w.open("nodes");
  for (const auto& n : t.nodes)
    w.empty("node", {{"id", std::to_string(n.node_id)}, {"hostname", n.hostname}});
  w.close("nodes");
  w.open("users");
  for (const auto& u : t.users)
    w.empty("user", {{"person_id", std::to_string(u.person_id)}, {"email", u.email}});
  w.close("users");
  w.open("rspec");
  for (const auto& r : t.rspec) {
    w.open("resource", {{"name", r.name}});
    w.text_element("value", {{"name", r.value_name}, {"type", r.type}}, r.value);
    w.close("resource");
  }
  w.close("rspec");
  w.close("slice");
  w.open("Signature", {{"xmlns", "http://www.w3.org/2000/09/xmldsig#"}});
  w.open("SignedInfo");
  w.empty("CanonicalizationMethod",
          {{"Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"}});
  w.empty("SignatureMethod", {{"Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1"}});
  w.open("Reference", {{"URI", ""}});
  w.open("Transforms");
  w.empty("Transform", {{"Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature"}});
  w.close("Transforms");
  w.empty("DigestMethod", {{"Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1"}});
  w.empty("DigestValue");
  w.close("Reference");
  w.close("SignedInfo");
  w.empty("SignatureValue");
  w.close("Signature");
  w.close("ticket");
  return std::move(w.str());
}

struct pl3_ticket_signer::impl {
  key_ptr key;
  mutable std::mutex mutex; // guards duplicating `key`
};

pl3_ticket_signer::pl3_ticket_signer(const std::filesystem::path& pem)
    : impl_(std::make_unique<impl>()) {
  std::string text = read_file(pem);
  bio_ptr in{BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))};
  pkey_ptr pkey{in ? PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr) : nullptr};
  if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA)
    throw std::runtime_error("PL3 ticket key " + pem.string() +
                             " is not a PEM RSA private key without a passphrase");
  bio_ptr out{BIO_new(BIO_s_mem())};
  if (!out || PEM_write_bio_PUBKEY(out.get(), pkey.get()) != 1)
    throw std::runtime_error("PL3 ticket key " + pem.string() + ": cannot derive its public key");
  public_pem_ = bio_text(out.get());
  impl_->key = load_key(text);
  if (!impl_->key)
    throw std::runtime_error("PL3 ticket key " + pem.string() + ": xmlsec cannot load it");
}

pl3_ticket_signer::~pl3_ticket_signer() = default;

std::string pl3_ticket_signer::sign(std::string_view template_xml) const {
  doc_ptr doc = parse(template_xml);
  xmlNode* node = doc ? signature_node(doc.get()) : nullptr;
  if (!node)
    throw std::runtime_error("PL3 ticket template has no signature template");
  dsig_ptr ctx{xmlSecDSigCtxCreate(nullptr)};
  if (!ctx)
    throw std::runtime_error("xmlsec: cannot create a signature context");
  {
    std::lock_guard lock{impl_->mutex};
    ctx->signKey = xmlSecKeyDuplicate(impl_->key.get()); // the context frees it
  }
  if (!ctx->signKey)
    throw std::runtime_error("xmlsec: cannot copy the PL3 ticket key");
  if (xmlSecDSigCtxSign(ctx.get(), node) < 0)
    throw std::runtime_error("xmlsec: signing the PL3 ticket failed");
  xmlChar* out = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(doc.get(), &out, &size, "utf-8");
  if (!out)
    throw std::runtime_error("libxml2: cannot write the signed PL3 ticket");
  std::string signed_xml(reinterpret_cast<const char*>(out), static_cast<std::size_t>(size));
  xmlFree(out);
  return signed_xml;
}

bool verify_pl3_ticket(std::string_view signed_xml, const std::string& key_pem) {
  key_ptr key = load_key(key_pem);
  if (!key)
    return false;
  doc_ptr doc = parse(signed_xml);
  xmlNode* node = doc ? signature_node(doc.get()) : nullptr;
  if (!node)
    return false;
  dsig_ptr ctx{xmlSecDSigCtxCreate(nullptr)};
  if (!ctx)
    throw std::runtime_error("xmlsec: cannot create a signature context");
  restrict_transforms(ctx.get());
  ctx->signKey = key.release(); // the context frees it
  if (xmlSecDSigCtxVerify(ctx.get(), node) < 0)
    return false;
  return ctx->status == xmlSecDSigStatusSucceeded;
}

void generate_pl3_ticket_key(const std::filesystem::path& private_pem,
                             const std::filesystem::path& public_pem) {
  pkey_ptr key{EVP_RSA_gen(2048)};
  if (!key)
    throw std::runtime_error("cannot generate an RSA key for PL3 tickets");
  bio_ptr priv{BIO_new(BIO_s_mem())}, pub{BIO_new(BIO_s_mem())};
  if (!priv || !pub ||
      PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1)
    throw std::runtime_error("cannot encode the PL3 ticket key");
  for (const auto& p : {private_pem, public_pem})
    if (p.has_parent_path())
      std::filesystem::create_directories(p.parent_path());
  write_file(public_pem, bio_text(pub.get()), 0644);
  write_file(private_pem, bio_text(priv.get()), 0600);
}

std::filesystem::path pl3_ticket_public_key_path(const std::filesystem::path& private_pem) {
  std::filesystem::path out = private_pem;
  out += ".pub";
  return out;
}

bool ensure_pl3_ticket_key(const std::filesystem::path& private_pem) {
  if (std::filesystem::exists(private_pem))
    return false;
  generate_pl3_ticket_key(private_pem, pl3_ticket_public_key_path(private_pem));
  return true;
}

} // namespace pl::plc::api
