// The mailer (spool and SMTP backends, templates) and the methods that send
// mail: Messages, VerifyPerson, ResetPassword, NotifyPersons.
#include "plc/api/dispatcher.hpp"
#include "plc/api/mailer.hpp"
#include "plc/api/messages.hpp"
#include "plc/api/password.hpp"
#include "plc/store/persons.hpp"
#include "plc/store/pool.hpp"
#include "scratch_db.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/xml.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace pl::plc;
using namespace pl::plc::api;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace asio = boost::asio;
using xv = xmlrpc_c::value;

namespace {

/// A temporary directory removed at the end of the test.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "plc-mail-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::vector<std::string> spooled(const fs::path& dir) {
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(dir))
    files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (auto& f : files) {
    std::ifstream in{f, std::ios::binary};
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
    CHECK(f.extension() == ".eml");
    CHECK(f.filename().string()[0] != '.');
  }
  return out;
}

/// A one-connection SMTP server on 127.0.0.1 (port 0), recording what it gets.
struct smtp_server {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  std::vector<std::string> commands;
  std::string data;
  bool silent = false; ///< Accept, then never answer (timeout test).
  std::thread thread;

  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  void start() {
    thread = std::thread([this] { serve(); });
  }

  void serve() {
    asio::ip::tcp::socket s{io};
    acceptor.accept(s);
    boost::system::error_code ec;
    if (silent) {
      // Wait until the client gives up and closes.
      char c;
      s.read_some(asio::buffer(&c, 1), ec);
      return;
    }
    asio::streambuf buf;
    auto say = [&](const std::string& line) { asio::write(s, asio::buffer(line), ec); };
    say("220 test.local ESMTP\r\n");
    for (;;) {
      asio::read_until(s, buf, "\r\n", ec);
      if (ec)
        return;
      std::istream in{&buf};
      std::string line;
      std::getline(in, line);
      line.pop_back();
      commands.push_back(line);
      if (line.rfind("EHLO", 0) == 0) {
        say("250-test.local\r\n250 8BITMIME\r\n");
      } else if (line.rfind("RCPT", 0) == 0) {
        say(line.find("reject") != std::string::npos ? "550 no such user\r\n" : "250 ok\r\n");
      } else if (line == "DATA") {
        say("354 go ahead\r\n");
        asio::read_until(s, buf, "\r\n.\r\n", ec);
        std::string all{asio::buffers_begin(buf.data()), asio::buffers_end(buf.data())};
        auto end = all.find("\r\n.\r\n");
        data = all.substr(0, end + 2);
        buf.consume(end + 5);
        say("250 queued\r\n");
      } else if (line == "QUIT") {
        say("221 bye\r\n");
        return;
      } else {
        say("250 ok\r\n");
      }
    }
  }

  ~smtp_server() {
    if (thread.joinable())
      thread.join();
  }
};

mail_message sample() {
  return {{"PLC Support", "support@plc.test"},
          {{"Ann O'Neil", "ann@example.org"}, {"Jürgen", "j@example.org"}},
          {{"", "cc@example.org"}},
          "Hello\r\nBcc: evil@example.org",
          "line one\n.leading dot\nlast line"};
}

} // namespace

TEST_CASE("render_template substitutes %(name)s and %(name)d like Python") {
  CHECK(render_template("Hi %(first)s, port %(port)d, 100%% sure, 5% off",
                        {{"first", "Ann"}, {"port", "443"}}) ==
        "Hi Ann, port 443, 100% sure, 5% off");
  CHECK_THROWS_AS(render_template("%(missing)s", {}), mail_error);
}

TEST_CASE("the spool backend writes one RFC 5322 file per message, atomically") {
  temp_dir dir;
  pl::manual_clock clock;
  spool_mailer m{{}, dir.path / "mail", clock};
  m.send(sample());
  m.send(sample());
  auto files = spooled(dir.path / "mail");
  REQUIRE(files.size() == 2);
  const std::string& text = files[0];
  CHECK_THAT(text, Catch::StartsWith("From: \"PLC Support\" <support@plc.test>\r\n"));
  CHECK_THAT(text, Catch::Contains("\r\nTo: \"Ann O'Neil\" <ann@example.org>, "
                                   "=?UTF-8?B?SsO8cmdlbg==?= <j@example.org>\r\n"));
  CHECK_THAT(text, Catch::Contains("\r\nCc: cc@example.org\r\n"));
  // A line break in the subject cannot add a header.
  CHECK_THAT(text, Catch::Contains("\r\nSubject: Hello  Bcc: evil@example.org\r\n"));
  CHECK_THAT(text, !Catch::Contains("\r\nBcc:"));
  CHECK_THAT(text, Catch::Contains("\r\nDate: Sun, 09 Sep 2001 01:46:40 +0000\r\n"));
  CHECK_THAT(text, Catch::Contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
  CHECK_THAT(text, Catch::EndsWith("\r\n\r\nline one\r\n.leading dot\r\nlast line\r\n"));
  CHECK_THROWS_AS(m.send({{"", "a@b"}, {{"", "bad address@x"}}, {}, "s", "b"}), mail_error);
  CHECK_THROWS_AS(m.send({{"", "a@b"}, {}, {}, "s", "b"}), mail_error);
  CHECK(spooled(dir.path / "mail").size() == 2);
}

TEST_CASE("the SMTP backend talks to a server on 127.0.0.1 (port 0)") {
  pl::manual_clock clock;
  smtp_server server;
  server.start();
  smtp_mailer m{{}, {"127.0.0.1", server.port(), "plc.test", 5000ms}, clock};
  m.send(sample());
  server.thread.join();
  REQUIRE(server.commands.size() >= 7);
  CHECK(server.commands[0] == "EHLO plc.test");
  CHECK(server.commands[1] == "MAIL FROM:<support@plc.test>");
  CHECK(server.commands[2] == "RCPT TO:<ann@example.org>");
  CHECK(server.commands[3] == "RCPT TO:<j@example.org>");
  CHECK(server.commands[4] == "RCPT TO:<cc@example.org>");
  CHECK(server.commands[5] == "DATA");
  CHECK(server.commands.back() == "QUIT");
  // Dot-stuffed on the wire.
  CHECK_THAT(server.data, Catch::Contains("\r\n..leading dot\r\n"));
  CHECK_THAT(server.data, Catch::StartsWith("From: "));
}

TEST_CASE("the SMTP backend reports refused recipients and timeouts") {
  pl::manual_clock clock;
  {
    smtp_server server;
    server.start();
    smtp_mailer m{{}, {"127.0.0.1", server.port(), "plc.test", 5000ms}, clock};
    auto msg = sample();
    msg.to.push_back({"", "reject@example.org"});
    CHECK_THROWS_WITH(m.send(msg), Catch::Contains("reject@example.org"));
  }
  {
    smtp_server server;
    server.silent = true;
    server.start();
    smtp_mailer m{{}, {"127.0.0.1", server.port(), "plc.test", 200ms}, clock};
    CHECK_THROWS_WITH(m.send(sample()), Catch::Contains("timed out"));
  }
  {
    // Nobody listening: connection refused, promptly.
    std::uint16_t port;
    {
      asio::io_context io;
      asio::ip::tcp::acceptor a{io, {asio::ip::make_address("127.0.0.1"), 0}};
      port = a.local_endpoint().port();
    }
    smtp_mailer m{{}, {"127.0.0.1", port, "plc.test", 5000ms}, clock};
    CHECK_THROWS_AS(m.send(sample()), mail_error);
  }
}

namespace {

xv str(const std::string& s) {
  return xmlrpc_c::value_string(s);
}

xv pw_auth(const std::string& user, const std::string& pw) {
  return xmlrpc_c::value_struct(std::map<std::string, xv>{
      {"AuthMethod", str("password")}, {"Username", str(user)}, {"AuthString", str(pw)}});
}

struct outcome {
  bool is_fault = false;
  int code = 0;
  std::string text;
  xv value;
};

std::string unique_email(const std::string& stem) {
  static std::atomic<int> n{0};
  return stem + std::to_string(++n) + "@mail.test";
}

struct fixture {
  temp_dir dir;
  pl::manual_clock clock;
  store::connection_pool pool{pl::test::scratch_conninfo(), 4};
  spool_mailer mail{
      {"TestLab", "support@testlab.org", "www.testlab.org", 8443, ""}, dir.path / "spool", clock};
  dispatcher api{{&pool, &clock, nullptr, &mail}};
  std::string admin = unique_email("admin");

  fixture() {
    add_message_methods(api);
    add_mail_methods(api);
    add_person("Ad", "Min", admin, "adminpw", true, {10});
  }

  int add_person(const std::string& first, const std::string& last, const std::string& email,
                 const std::string& pw, bool enabled, std::vector<int> roles) {
    auto conn = pool.acquire();
    return store::add_person(
        *conn, {email, first, last, hash_password(pw, {10, 8, 1}), enabled, std::move(roles)},
        clock);
  }

  outcome call(const std::string& method, std::vector<xv> params) {
    params.insert(params.begin(), pw_auth(admin, "adminpw"));
    xmlrpc_c::paramList list;
    for (const auto& p : params)
      list.add(p);
    std::string xml;
    xmlrpc_c::xml::generateCall(method, list, &xml);
    xmlrpc_c::rpcOutcome out;
    xmlrpc_c::xml::parseResponse(api.handle(xml, "127.0.0.1"), &out);
    if (out.succeeded())
      return {false, 0, {}, out.getResult()};
    auto f = out.getFault();
    return {true, static_cast<int>(f.getCode()), f.getDescription(), {}};
  }

  std::vector<std::string> mails() { return spooled(dir.path / "spool"); }

  std::pair<std::optional<std::string>, std::string> verification(int id) {
    auto conn = pool.acquire();
    auto r = conn->exec("SELECT verification_key, password FROM persons WHERE person_id = $1",
                        {std::to_string(id)});
    return {r.optional_text(0, 0), std::string{r.text(0, 1)}};
  }
};

/// Returns the key from a mailed link (`key=...`), URL-decoded.
std::string key_in(const std::string& mail) {
  auto at = mail.find("key=");
  REQUIRE(at != std::string::npos);
  auto end = mail.find_first_of("\r\n", at);
  std::string enc = mail.substr(at + 4, end - at - 4);
  std::string out;
  for (std::size_t i = 0; i < enc.size(); ++i) {
    if (enc[i] == '%') {
      out += static_cast<char>(std::stoi(enc.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += enc[i] == '+' ? ' ' : enc[i];
    }
  }
  return out;
}

} // namespace

TEST_CASE_METHOD(fixture, "the messages table is seeded and managed by admins") {
  auto got = call("GetMessages", {xmlrpc_c::value_array(std::vector<xv>{
                                     str("Verify account"), str("Password reset requested")})});
  REQUIRE_FALSE(got.is_fault);
  auto rows = xmlrpc_c::value_array(got.value).vectorValueValue();
  REQUIRE(rows.size() == 2);
  auto row = xmlrpc_c::value_struct(rows[0]).cvalue();
  CHECK(xmlrpc_c::value_string(row.at("message_id")).cvalue() == "Password reset requested");
  CHECK(xmlrpc_c::value_boolean(row.at("enabled")).cvalue());

  auto fields =
      xmlrpc_c::value_struct(std::map<std::string, xv>{{"message_id", str("Test message")},
                                                       {"subject", str("Hi %(first_name)s")},
                                                       {"template", str("Body")}});
  REQUIRE_FALSE(call("AddMessage", {fields}).is_fault);
  CHECK(call("AddMessage", {fields}).code == 102);
  REQUIRE_FALSE(call("UpdateMessage",
                     {str("Test message"), xmlrpc_c::value_struct(std::map<std::string, xv>{
                                               {"template", str("New body")},
                                               {"subject", str("ignored")},
                                               {"enabled", xmlrpc_c::value_boolean(false)}})})
                    .is_fault);
  auto after =
      xmlrpc_c::value_struct(xmlrpc_c::value_array(call("GetMessages", {str("Test message")}).value)
                                 .vectorValueValue()
                                 .at(0));
  auto m = after.cvalue();
  CHECK(xmlrpc_c::value_string(m.at("template")).cvalue() == "New body");
  CHECK(xmlrpc_c::value_string(m.at("subject")).cvalue() == "Hi %(first_name)s");
  CHECK_FALSE(xmlrpc_c::value_boolean(m.at("enabled")).cvalue());
  CHECK(
      call("GetMessages", {xmlrpc_c::value_array(std::vector<xv>{xmlrpc_c::value_int(1)})}).code ==
      102);
  REQUIRE_FALSE(call("DeleteMessage", {str("Test message")}).is_fault);
  CHECK(call("DeleteMessage", {str("Test message")}).code == 102);
  CHECK(call("UpdateMessage",
             {str("Test message"), xmlrpc_c::value_struct(std::map<std::string, xv>{})})
            .code == 102);
}

TEST_CASE_METHOD(fixture, "VerifyPerson mails a key, then accepts it once") {
  std::string email = unique_email("new");
  int id = add_person("Nina", "New", email, "pw", false, {30});
  REQUIRE_FALSE(call("VerifyPerson", {str(email)}).is_fault);
  auto sent = mails();
  REQUIRE(sent.size() == 1);
  CHECK_THAT(sent[0], Catch::Contains("To: \"Nina New\" <" + email + ">"));
  CHECK_THAT(sent[0], Catch::Contains("Subject: Verify account registration"));
  CHECK_THAT(sent[0], Catch::Contains("From: \"TestLab Support\" <support@testlab.org>"));
  CHECK_THAT(sent[0], Catch::Contains("https://www.testlab.org:8443/db/persons/register.php?id=" +
                                      std::to_string(id) + "&key="));
  std::string key = key_in(sent[0]);
  CHECK(verification(id).first == key);
  // One at a time, and a wrong key is refused.
  CHECK(call("VerifyPerson", {xmlrpc_c::value_int(id)}).code == 108);
  CHECK(call("VerifyPerson", {xmlrpc_c::value_int(id), str("wrong")}).code == 108);
  REQUIRE_FALSE(call("VerifyPerson", {xmlrpc_c::value_int(id), str(key)}).is_fault);
  CHECK_FALSE(verification(id).first);
  sent = mails();
  REQUIRE(sent.size() == 2);
  CHECK_THAT(sent[1], Catch::Contains("Subject: New account registration from Nina New"));
  CHECK_THAT(sent[1], Catch::Contains("Cc: \"Nina New\" <" + email + ">"));
  // Enabled accounts are not verified.
  auto conn = pool.acquire();
  conn->exec("UPDATE persons SET enabled = true WHERE person_id = $1", {std::to_string(id)});
  CHECK(call("VerifyPerson", {xmlrpc_c::value_int(id)}).code == 102);
}

TEST_CASE_METHOD(fixture, "an expired verification key sends a new one") {
  std::string email = unique_email("slow");
  int id = add_person("S", "Low", email, "pw", false, {30});
  REQUIRE_FALSE(call("VerifyPerson", {str(email)}).is_fault);
  std::string old_key = key_in(mails().at(0));
  clock.advance(25h);
  auto late = call("VerifyPerson", {str(email), str(old_key)});
  CHECK(late.code == 108);
  CHECK_THAT(late.text, Catch::Contains("has expired. Another email has been sent"));
  REQUIRE(mails().size() == 2);
  CHECK(verification(id).first != old_key);
}

TEST_CASE_METHOD(fixture, "ResetPassword mails a link, then a new password that works") {
  std::string email = unique_email("forgetful");
  int id = add_person("For", "Getful", email, "oldpw", true, {30});
  REQUIRE_FALSE(call("ResetPassword", {str(email)}).is_fault);
  CHECK(call("ResetPassword", {str(email)}).code == 108);
  auto sent = mails();
  REQUIRE(sent.size() == 1);
  CHECK_THAT(sent[0], Catch::Contains("Subject: Password reset requested"));
  std::string key = key_in(sent[0]);
  CHECK(call("ResetPassword", {xmlrpc_c::value_int(id), str(key + "x")}).code == 108);
  REQUIRE_FALSE(call("ResetPassword", {xmlrpc_c::value_int(id), str(key)}).is_fault);
  sent = mails();
  REQUIRE(sent.size() == 2);
  CHECK_THAT(sent[1], Catch::Contains("Subject: Password reset\r\n"));
  // The mailed password is the new one.
  const std::string intro = "temporarily reset to:\r\n\r\n";
  auto body = sent[1].substr(sent[1].find(intro) + intro.size());
  std::string password = body.substr(0, body.find("\r\n"));
  CHECK(password.size() == 44);
  auto [k, stored] = verification(id);
  CHECK_FALSE(k);
  CHECK(verify_password(password, stored));
  CHECK_FALSE(verify_password("oldpw", stored));
  // Never for admins; never for disabled accounts.
  CHECK_THAT(call("ResetPassword", {str(admin)}).text, Catch::Contains("Cannot reset admin"));
  std::string off = unique_email("off");
  add_person("O", "Ff", off, "pw", false, {30});
  CHECK(call("ResetPassword", {str(off)}).code == 102);
}

TEST_CASE_METHOD(fixture, "NotifyPersons mails the matching persons") {
  std::string a = unique_email("a");
  std::string b = unique_email("b");
  int ida = add_person("Al", "Pha", a, "pw", true, {30});
  add_person("Be", "Ta", b, "pw", true, {30});
  REQUIRE_FALSE(call("NotifyPersons",
                     {xmlrpc_c::value_array(std::vector<xv>{xmlrpc_c::value_int(ida), str(b)}),
                      str("Maintenance"), str("Down at noon.")})
                    .is_fault);
  auto sent = mails();
  REQUIRE(sent.size() == 1);
  CHECK_THAT(sent[0], Catch::Contains("\"Al Pha\" <" + a + ">"));
  CHECK_THAT(sent[0], Catch::Contains("\"Be Ta\" <" + b + ">"));
  CHECK_THAT(sent[0], Catch::Contains("Subject: Maintenance\r\n"));
  CHECK_THAT(sent[0], Catch::EndsWith("\r\n\r\nDown at noon.\r\n"));
  CHECK(call("NotifyPersons",
             {xmlrpc_c::value_array(std::vector<xv>{str("nobody@x")}), str("s"), str("b")})
            .code == 102);
}
