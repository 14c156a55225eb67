/* linux_nm_call: a static XML-RPC client for the node manager's local API over
 * a unix socket, copied into the test slivers' busybox image (which has no
 * client of its own). Usage: linux_nm_call SOCKET METHOD [STRING_ARG...].
 * Prints the HTTP response body; exits 0 on HTTP 200, 1 otherwise, 2 on usage
 * or connection errors. Arguments are sent as XML-RPC strings (escaped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char body[65536];
static size_t used;

static void put(const char* s) {
  size_t n = strlen(s);
  if (used + n >= sizeof(body)) {
    fprintf(stderr, "linux_nm_call: request too large\n");
    exit(2);
  }
  memcpy(body + used, s, n);
  used += n;
}

static void put_escaped(const char* s) {
  for (; *s; ++s) {
    char c[2] = {*s, 0};
    put(*s == '<' ? "&lt;" : *s == '&' ? "&amp;" : *s == '>' ? "&gt;" : c);
  }
}

static void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) {
      perror("linux_nm_call: write");
      exit(2);
    }
    p += w;
    n -= (size_t)w;
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: linux_nm_call SOCKET METHOD [STRING_ARG...]\n");
    return 2;
  }
  put("<?xml version=\"1.0\"?><methodCall><methodName>");
  put_escaped(argv[2]);
  put("</methodName><params>");
  for (int i = 3; i < argc; ++i) {
    put("<param><value><string>");
    put_escaped(argv[i]);
    put("</string></value></param>");
  }
  put("</params></methodCall>");

  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof addr.sun_path) {
    fprintf(stderr, "linux_nm_call: socket path too long\n");
    return 2;
  }
  strcpy(addr.sun_path, argv[1]);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    perror("linux_nm_call: connect");
    return 2;
  }
  char head[256];
  snprintf(head, sizeof head,
           "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
           "Content-Length: %zu\r\nConnection: close\r\n\r\n",
           used);
  write_all(fd, head, strlen(head));
  write_all(fd, body, used);

  static char reply[1 << 20];
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fd, reply + got, sizeof reply - 1 - got);
    if (r < 0) {
      perror("linux_nm_call: read");
      return 2;
    }
    if (r == 0 || got + (size_t)r >= sizeof reply - 1)
      break;
    got += (size_t)r;
  }
  reply[got] = 0;
  close(fd);
  char* sep = strstr(reply, "\r\n\r\n");
  fputs(sep ? sep + 4 : reply, stdout);
  fputc('\n', stdout);
  return strncmp(reply, "HTTP/1.1 200", 12) == 0 ? 0 : 1;
}
