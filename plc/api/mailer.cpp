#include "plc/api/mailer.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <functional>
#include <istream>
#include <unistd.h>

namespace pl::plc::api {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

bool is_plain_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e)
      return false;
  return true;
}

/// Removes line breaks, so no caller-supplied text can start a header.
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s)
    out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

std::string base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

/// Encodes a header text as RFC 2047 when it is not plain printable ASCII.
std::string header_text(std::string_view s) {
  std::string line = one_line(s);
  if (is_plain_ascii(line))
    return line;
  return "=?UTF-8?B?" + base64(line) + "?=";
}

void check_address(const std::string& email) {
  if (email.empty() || email.size() > 254)
    throw mail_error("invalid e-mail address '" + one_line(email) + "'");
  for (unsigned char c : email)
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == '"' || c == '(' ||
        c == ')')
      throw mail_error("invalid e-mail address '" + one_line(email) + "'");
}

std::string mailbox(const mail_address& a) {
  check_address(a.email);
  if (a.name.empty())
    return a.email;
  std::string name = one_line(a.name);
  if (!is_plain_ascii(name))
    return header_text(name) + " <" + a.email + ">";
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    quoted += c;
  }
  return quoted + "\" <" + a.email + ">";
}

std::string mailbox_list(const std::vector<mail_address>& list) {
  std::string out;
  for (const auto& a : list)
    out += (out.empty() ? "" : ", ") + mailbox(a);
  return out;
}

std::string rfc5322_date(std::int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> r(bytes);
  if (RAND_bytes(r.data(), static_cast<int>(r.size())) != 1)
    throw mail_error("no random bytes");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : r) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

/// Converts any line ends to CRLF.
std::string crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n')
        ++i;
      out += "\r\n";
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

void write_all(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw mail_error("cannot write " + path + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

/// One SMTP conversation; every step runs the I/O context for at most the timeout.
class smtp_session {
public:
  explicit smtp_session(std::chrono::milliseconds timeout)
      : timeout_(timeout) {}

  void connect(const std::string& host, std::uint16_t port) {
    tcp::resolver resolver{io_};
    tcp::resolver::results_type endpoints;
    run(
        [&](auto done) {
          resolver.async_resolve(host, std::to_string(port),
                                 [&endpoints, done](const boost::system::error_code& ec,
                                                    tcp::resolver::results_type r) {
                                   endpoints = std::move(r);
                                   done(ec);
                                 });
        },
        "resolving " + host, [&resolver] { resolver.cancel(); });
    run(
        [&](auto done) {
          asio::async_connect(
              sock_, endpoints,
              [done](const boost::system::error_code& ec, const tcp::endpoint&) { done(ec); });
        },
        "connecting to " + host + ":" + std::to_string(port));
  }

  /// Reads one (possibly multi-line) reply; returns its code and last line.
  std::pair<int, std::string> reply(const std::string& step) {
    for (;;) {
      run(
          [&](auto done) {
            asio::async_read_until(
                sock_, buf_, "\r\n",
                [done](const boost::system::error_code& ec, std::size_t) { done(ec); });
          },
          "reading the reply to " + step);
      std::istream in{&buf_};
      std::string line;
      std::getline(in, line);
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])))
        throw mail_error("SMTP: malformed reply to " + step + ": " + one_line(line));
      if (line.size() > 3 && line[3] == '-')
        continue;
      return {std::stoi(line.substr(0, 3)), line};
    }
  }

  void send(const std::string& data, const std::string& step) {
    run(
        [&](auto done) {
          asio::async_write(sock_, asio::buffer(data),
                            [done](const boost::system::error_code& ec, std::size_t) { done(ec); });
        },
        "sending " + step);
  }

  /// Sends a command and requires a reply code in [low, high].
  std::string command(const std::string& line, int low, int high) {
    std::string verb = line.substr(0, line.find(' '));
    send(line + "\r\n", verb);
    auto [code, text] = reply(verb);
    if (code < low || code > high)
      throw mail_error("SMTP " + verb + " refused: " + one_line(text));
    return text;
  }

private:
  /// Starts one asynchronous step and waits for it at most the timeout;
  /// `cancel` (default: closing the socket) makes a late step finish.
  template <class Start>
  void run(Start start, const std::string& what, std::function<void()> cancel = {}) {
    bool finished = false;
    boost::system::error_code result;
    start([&finished, &result](const boost::system::error_code& ec) {
      finished = true;
      result = ec;
    });
    io_.restart();
    io_.run_for(timeout_);
    if (!finished) {
      // Cancel and let the handler run, so nothing refers to this frame afterwards.
      boost::system::error_code ignored;
      if (cancel)
        cancel();
      sock_.close(ignored);
      io_.restart();
      io_.run();
      throw mail_error("SMTP: timed out " + what);
    }
    if (result)
      throw mail_error("SMTP: failed " + what + ": " + result.message());
  }

  asio::io_context io_;
  tcp::socket sock_{io_};
  asio::streambuf buf_;
  std::chrono::milliseconds timeout_;
};

} // namespace

mail_address mailer::sender() const {
  const auto& id = identity_;
  return {id.plc_name + " Support", id.from.empty() ? id.support_address : id.from};
}

std::string format_message(const mail_message& msg, const pl::clock& clock) {
  if (msg.to.empty() && msg.cc.empty())
    throw mail_error("message without recipients");
  std::string from = mailbox(msg.from);
  std::string out;
  out += "From: " + from + "\r\n";
  if (!msg.to.empty())
    out += "To: " + mailbox_list(msg.to) + "\r\n";
  if (!msg.cc.empty())
    out += "Cc: " + mailbox_list(msg.cc) + "\r\n";
  // Reply-To as the original sets it ("needed to pass some spam filters").
  out += "Reply-To: " + from + "\r\n";
  out += "Subject: " + header_text(msg.subject) + "\r\n";
  out += "Date: " + rfc5322_date(clock.now_epoch()) + "\r\n";
  std::string domain = msg.from.email.substr(msg.from.email.find('@') + 1);
  out += "Message-ID: <" + std::to_string(clock.now_epoch()) + "." + random_hex(8) + "@" +
         (domain.empty() ? "plc" : domain) + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: 8bit\r\n";
  out += "X-Mailer: plcd\r\n";
  out += "\r\n";
  out += crlf(msg.body);
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0)
    out += "\r\n";
  return out;
}

std::string render_template(std::string_view text,
                            const std::map<std::string, std::string>& params) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '%' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    auto close = text[i + 1] == '(' ? text.find(')', i + 2) : std::string_view::npos;
    if (close == std::string_view::npos || close + 1 >= text.size() ||
        (text[close + 1] != 's' && text[close + 1] != 'd')) {
      out += c;
      continue;
    }
    std::string name{text.substr(i + 2, close - i - 2)};
    auto p = params.find(name);
    if (p == params.end())
      throw mail_error("template needs '" + name + "'");
    out += p->second;
    i = close + 1;
  }
  return out;
}

spool_mailer::spool_mailer(mail_identity identity, std::filesystem::path dir,
                           const pl::clock& clock)
    : mailer(std::move(identity))
    , dir_(std::move(dir))
    , clock_(clock) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    throw mail_error("cannot create mail spool " + dir_.string() + ": " + ec.message());
}

void spool_mailer::send(const mail_message& msg) {
  static std::atomic<unsigned> counter{0};
  std::string text = format_message(msg, clock_);
  std::string name = std::to_string(clock_.now_epoch()) + "." + std::to_string(::getpid()) + "." +
                     std::to_string(++counter) + "." + random_hex(4) + ".eml";
  std::string tmp = (dir_ / ("." + name + ".tmp")).string();
  std::string final_path = (dir_ / name).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0)
    throw mail_error("cannot create " + tmp + ": " + std::strerror(errno));
  try {
    write_all(fd, text, tmp);
    if (::fsync(fd) != 0)
      throw mail_error("cannot sync " + tmp + ": " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw mail_error("cannot close " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw mail_error("cannot rename " + tmp + ": " + std::strerror(err));
  }
}

smtp_mailer::smtp_mailer(mail_identity identity, smtp_config cfg, const pl::clock& clock)
    : mailer(std::move(identity))
    , cfg_(std::move(cfg))
    , clock_(clock) {}

void smtp_mailer::send(const mail_message& msg) {
  std::string text = format_message(msg, clock_);
  // Dot-stuffing (RFC 5321 4.5.2): a line starting with '.' gets another one.
  std::string data;
  data.reserve(text.size() + 16);
  bool line_start = true;
  for (char c : text) {
    if (line_start && c == '.')
      data += '.';
    data += c;
    line_start = c == '\n';
  }
  data += ".\r\n";

  smtp_session s{cfg_.timeout};
  s.connect(cfg_.host, cfg_.port);
  auto [code, greeting] = s.reply("the greeting");
  if (code != 220)
    throw mail_error("SMTP server not ready: " + one_line(greeting));
  try {
    s.command("EHLO " + cfg_.helo_name, 250, 250);
  } catch (const mail_error&) {
    s.command("HELO " + cfg_.helo_name, 250, 250);
  }
  s.command("MAIL FROM:<" + msg.from.email + ">", 250, 250);
  std::vector<std::string> refused;
  for (const auto* list : {&msg.to, &msg.cc})
    for (const auto& rcpt : *list) {
      try {
        s.command("RCPT TO:<" + rcpt.email + ">", 250, 251);
      } catch (const mail_error&) {
        refused.push_back(rcpt.email);
      }
    }
  if (!refused.empty()) {
    std::string list;
    for (const auto& r : refused)
      list += (list.empty() ? "" : ", ") + r;
    throw mail_error("Error sending message to " + list);
  }
  s.command("DATA", 354, 354);
  s.send(data, "the message");
  auto [accepted, text_reply] = s.reply("the message");
  if (accepted != 250)
    throw mail_error("SMTP message refused: " + one_line(text_reply));
  try {
    s.command("QUIT", 221, 221);
  } catch (const mail_error&) {
    // Delivered already; a sloppy goodbye does not matter.
  }
}

std::unique_ptr<mailer> make_mailer(const std::string& kind, mail_identity identity,
                                    const std::filesystem::path& spool_dir, smtp_config smtp,
                                    const pl::clock& clock) {
  if (kind == "spool")
    return std::make_unique<spool_mailer>(std::move(identity), spool_dir, clock);
  if (kind == "smtp")
    return std::make_unique<smtp_mailer>(std::move(identity), std::move(smtp), clock);
  throw std::invalid_argument("unknown mail backend '" + kind + "' (spool or smtp)");
}

} // namespace pl::plc::api
