#pragma once

#include "actors/clock.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pl::plc::api {

/// A mailbox: an optional display name and an address.
struct mail_address {
  std::string name;
  std::string email;
};

/// One plain-text message.
struct mail_message {
  mail_address from;
  std::vector<mail_address> to;
  std::vector<mail_address> cc;
  std::string subject;
  std::string body;
};

/// Reports a message that could not be delivered to the backend.
class mail_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What the original took from PLC_* settings: names the templates use.
struct mail_identity {
  std::string plc_name = "PlanetLab";                ///< %(PLC_NAME)s
  std::string support_address = "support@localhost"; ///< %(PLC_MAIL_SUPPORT_ADDRESS)s
  std::string www_host = "localhost";                ///< %(PLC_WWW_HOST)s
  std::uint16_t www_port = 443;                      ///< %(PLC_WWW_SSL_PORT)d
  std::string from = "";                             ///< Sender; empty: support_address.
  /// %(PLC_MAIL_BOOT_ADDRESS)s: receives every boot message about nodes; empty: none.
  std::string boot_address = "";
};

/// Hands messages to a delivery backend. Implementations are thread-safe.
class mailer {
public:
  explicit mailer(mail_identity identity)
      : identity_(std::move(identity)) {}
  virtual ~mailer() = default;

  /// Delivers `msg` (throws mail_error when the backend refuses it).
  virtual void send(const mail_message& msg) = 0;

  const mail_identity& identity() const { return identity_; }

  /// Returns the sender every PLC message uses ("<PLC_NAME> Support").
  mail_address sender() const;

private:
  mail_identity identity_;
};

/// Writes each message as one RFC 5322 file into a directory: first as a
/// dot-file, then renamed to `<time>.<counter>.<random>.eml`, so a reader
/// never sees half a message. The default for --dev and tests.
class spool_mailer final : public mailer {
public:
  spool_mailer(mail_identity identity, std::filesystem::path dir, const pl::clock& clock);

  void send(const mail_message& msg) override;

  const std::filesystem::path& dir() const { return dir_; }

private:
  std::filesystem::path dir_;
  const pl::clock& clock_;
};

/// Where and how the SMTP backend delivers.
struct smtp_config {
  std::string host = "localhost";
  std::uint16_t port = 25;
  std::string helo_name = "localhost"; ///< Name given in EHLO.
  /// Bound on each step (connect, each reply, the message upload).
  std::chrono::milliseconds timeout{10000};
};

/// Delivers over plain SMTP (no TLS, no AUTH: a local relay), synchronously,
/// with every step bounded by the configured timeout.
class smtp_mailer final : public mailer {
public:
  smtp_mailer(mail_identity identity, smtp_config cfg, const pl::clock& clock);

  void send(const mail_message& msg) override;

private:
  smtp_config cfg_;
  const pl::clock& clock_;
};

/// Renders `msg` as an RFC 5322 message (CRLF line ends, UTF-8 body, RFC 2047
/// encoded headers where needed) dated by `clock`.
std::string format_message(const mail_message& msg, const pl::clock& clock);

/// Substitutes Python-style `%(name)s` and `%(name)d` placeholders (and `%%`)
/// as PLCAPI's templates use them; an unknown name throws mail_error.
std::string render_template(std::string_view text,
                            const std::map<std::string, std::string>& params);

/// Makes the backend `kind` names: "spool" (in `spool_dir`) or "smtp".
std::unique_ptr<mailer> make_mailer(const std::string& kind, mail_identity identity,
                                    const std::filesystem::path& spool_dir, smtp_config smtp,
                                    const pl::clock& clock);

} // namespace pl::plc::api
