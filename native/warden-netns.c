/*
 * warden-netns: the small helper that gives a sandboxed command its only way out of an empty network
 * namespace: warden's domain proxy on the host. It runs inside bwrap (fresh network namespace, only
 * loopback), and has two modes.
 *
 *   warden-netns run FILTER_FD SOCKET_PATH PORT... -- CMD ARGS...
 *     Listens on 127.0.0.1:PORT (each PORT) inside the namespace and forks a relay that carries every
 *     accepted connection to the Unix socket SOCKET_PATH, where warden's proxy decides by domain. Then it
 *     installs the seccomp program read from FILTER_FD on itself and execs CMD: the command can make
 *     TCP/UDP sockets (they reach only this namespace's loopback) but no AF_UNIX socket, so no Unix
 *     socket of the host (docker.sock, the session bus) is reachable; only the relay can reach the proxy.
 *     The relay is not filtered (it must make the AF_UNIX connection), so it is made non-dumpable: the
 *     command (same uid, no capabilities) can then neither ptrace it nor open its /proc/PID/mem or fds.
 *
 *   warden-netns connect PORT HOST HOSTPORT
 *     For ssh's ProxyCommand: an HTTP CONNECT through 127.0.0.1:PORT, then stdin/stdout relayed.
 *
 * Why C and not node or socat: this starts on every sandboxed run that has domains allowed, so it must
 * start in about a millisecond, and the seccomp program must apply to the command but not to the relay,
 * which bwrap's own --seccomp (applied to everything it starts) cannot do.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_PORTS 4
#define MAX_FILTER (4096 * 8)

static void die(const char *what) {
  fprintf(stderr, "warden-netns: %s: %s\n", what, strerror(errno));
  _exit(125);
}

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(fd, 128) < 0) die("listen");
  return fd;
}

/* Copies both ways until both sides are done; half-closes are passed on. */
static void pump(int a_in, int a_out, int b) {
  char buf[65536];
  int a_open = 1, b_open = 1;
  while (a_open || b_open) {
    struct pollfd p[2] = {{a_open ? a_in : -1, POLLIN, 0}, {b_open ? b : -1, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (a_open && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(a_in, buf, sizeof buf);
      if (n <= 0) {
        a_open = 0;
        shutdown(b, SHUT_WR);
      } else if (write(b, buf, (size_t)n) != n) {
        return;
      }
    }
    if (b_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(b, buf, sizeof buf);
      if (n <= 0) {
        b_open = 0;
        if (a_out == a_in) shutdown(a_out, SHUT_WR); else close(a_out);
      } else {
        ssize_t off = 0;
        while (off < n) {
          ssize_t w = write(a_out, buf + off, (size_t)(n - off));
          if (w <= 0) return;
          off += w;
        }
      }
    }
  }
}

static void relay(int *listeners, int count, const char *path) {
  signal(SIGCHLD, SIG_IGN); /* connection children reap themselves */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct pollfd p[MAX_PORTS];
  for (int i = 0; i < count; i++) p[i] = (struct pollfd){listeners[i], POLLIN, 0};
  for (;;) {
    if (poll(p, (nfds_t)count, -1) < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    for (int i = 0; i < count; i++) {
      if (!(p[i].revents & POLLIN)) continue;
      int c = accept4(listeners[i], NULL, NULL, SOCK_CLOEXEC);
      if (c < 0) continue;
      pid_t pid = fork();
      if (pid == 0) {
        int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = {0};
        a.sun_family = AF_UNIX;
        strncpy(a.sun_path, path, sizeof a.sun_path - 1);
        if (u < 0 || connect(u, (struct sockaddr *)&a, sizeof a) < 0) _exit(1); /* proxy gone: fail closed */
        pump(c, c, u);
        _exit(0);
      }
      close(c);
    }
  }
}

static void apply_filter(int fd) {
  static unsigned char prog[MAX_FILTER];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, prog + len, sizeof prog - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read filter");
    if (n == 0) break;
    len += (size_t)n;
    if (len == sizeof prog) break;
  }
  close(fd);
  if (len == 0 || len % sizeof(struct sock_filter) != 0) {
    fprintf(stderr, "warden-netns: bad seccomp program (%zu bytes)\n", len);
    _exit(125);
  }
  struct sock_fprog f = {(unsigned short)(len / sizeof(struct sock_filter)), (struct sock_filter *)prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("no_new_privs");
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &f) < 0) die("seccomp");
}

static int run(int argc, char **argv) {
  /* run FILTER_FD SOCKET_PATH PORT... -- CMD... */
  if (argc < 6) return 2;
  int filter_fd = atoi(argv[2]);
  const char *path = argv[3];
  int listeners[MAX_PORTS], count = 0, i = 4;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (count == MAX_PORTS) return 2;
    listeners[count++] = listen_on(atoi(argv[i]));
  }
  if (i >= argc - 1 || count == 0 || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) return 2;
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(filter_fd);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) die("dumpable");
    relay(listeners, count, path);
  }
  for (int k = 0; k < count; k++) close(listeners[k]);
  apply_filter(filter_fd);
  execvp(argv[i + 1], argv + i + 1);
  fprintf(stderr, "warden-netns: execvp %s: %s\n", argv[i + 1], strerror(errno));
  return 127;
}

static int connect_mode(int argc, char **argv) {
  /* connect PORT HOST HOSTPORT */
  if (argc != 5) return 2;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[2]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect to the proxy");
  char req[1024];
  int n = snprintf(req, sizeof req, "CONNECT %s:%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", argv[3], argv[4], argv[3], argv[4]);
  if (n <= 0 || n >= (int)sizeof req || write(s, req, (size_t)n) != n) return 1;
  /* Read the answer's head byte by byte so nothing after it is lost. */
  char head[4096];
  size_t len = 0;
  while (len < sizeof head - 1) {
    ssize_t r = read(s, head + len, 1);
    if (r <= 0) return 1;
    len++;
    if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0) break;
  }
  head[len] = 0;
  if (strncmp(head, "HTTP/1.1 200", 12) != 0 && strncmp(head, "HTTP/1.0 200", 12) != 0) {
    char *eol = strstr(head, "\r\n");
    if (eol) *eol = 0;
    fprintf(stderr, "warden-netns: the proxy refused %s:%s: %s\n", argv[3], argv[4], head);
    return 1;
  }
  pump(0, 1, s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "run") == 0) {
    int r = run(argc, argv);
    if (r == 2) fprintf(stderr, "usage: warden-netns run FILTER_FD SOCKET_PATH PORT... -- CMD...\n");
    return r;
  }
  if (argc >= 2 && strcmp(argv[1], "connect") == 0) {
    int r = connect_mode(argc, argv);
    if (r == 2) fprintf(stderr, "usage: warden-netns connect PORT HOST HOSTPORT\n");
    return r;
  }
  fprintf(stderr, "usage: warden-netns run ... | connect ...\n");
  return 2;
}
