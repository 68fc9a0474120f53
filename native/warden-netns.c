/*
 * warden-netns: the small helper that gives a sandboxed command its only way out of an empty network
 * namespace: warden's domain proxy on the host. It runs inside bwrap (fresh network namespace, only
 * loopback), and has two modes.
 *
 *   warden-netns run FILTER_FD SOCKET_PATH PORT... -- CMD ARGS...
 *     Listens on 127.0.0.1:PORT (each PORT) inside the namespace and forks a relay that passes every
 *     accepted connection's socket (SCM_RIGHTS) to the Unix socket SOCKET_PATH, where warden's splice
 *     helper listens for this run and hands it to the proxy, which decides by domain; the relay moves
 *     no bytes. Then it installs the seccomp program read from FILTER_FD on itself and execs CMD: the
 *     command can make TCP/UDP sockets (they reach only this namespace's loopback) but no AF_UNIX
 *     socket, so no Unix socket of the host (docker.sock, the session bus) is reachable; only the relay
 *     can reach the proxy. The relay is not filtered (it must make the AF_UNIX connection), so it is
 *     made non-dumpable: the command (same uid, no capabilities) can then neither ptrace it nor open
 *     its /proc/PID/mem or fds.
 *
 *   warden-netns connect PORT HOST HOSTPORT
 *     For ssh's ProxyCommand: an HTTP CONNECT through 127.0.0.1:PORT, then stdin/stdout relayed.
 *
 *   warden-netns splice
 *     On the host, started by warden's proxy with a node IPC channel (NODE_CHANNEL_FD), one per proxy.
 *     {"listen":R,"path":P} has it listen on P for run R's relay (answered {"listening":R} or
 *     {"notListening":R}); each connection's socket the relay passes is sent on to the proxy as a node
 *     handle message {"cmd":"NODE_HANDLE","type":"net.Socket","msg":{"connection":R}}, one at a time
 *     (node takes one fd per read), each acknowledged by node. Once the proxy has judged a connection
 *     and opened its upstream, it hands both sockets back (the client, then the upstream), each as
 *     {"cmd":"NODE_HANDLE",...,"msg":{"pair":N,"run":R}} carrying one fd, answered
 *     {"cmd":"NODE_HANDLE_ACK"}; the helper relays the pair with splice(2) in its own poll loop (no
 *     process per connection), so an allowed connection's bytes never pass through node. {"close":R}
 *     ends run R's listener and connections; the helper and its connections die with the proxy's
 *     process (PR_SET_PDEATHSIG), and the runs' relays then find nothing to pass their connections
 *     to (closed, never open).
 *
 * Why C and not node or socat: this starts on every sandboxed run that has domains allowed, so it must
 * start in about a millisecond, and the seccomp program must apply to the command but not to the relay,
 * which bwrap's own --seccomp (applied to everything it starts) cannot do.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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

/*
 * One direction of a connection, `from` to `to`. The bytes go through a pipe with splice(2), so they
 * are moved between the sockets' buffers in the kernel and never copied through this process; an end
 * that cannot splice (a terminal on connect's stdin) falls back to read/write through a buffer.
 */
struct flow {
  int from, to;
  int pipe[2];
  size_t queued; /* taken from `from`, not yet written to `to` */
  int ended;     /* `from` said EOF (or failed) */
  int done;      /* ended, drained, and the end passed on to `to` */
  char *buf;     /* the copy fallback; NULL while splicing */
  size_t off;
};

#define FLOW_CHUNK (1 << 20)

static void flow_init(struct flow *f, int from, int to) {
  *f = (struct flow){from, to, {-1, -1}, 0, 0, 0, NULL, 0};
  if (pipe2(f->pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
    fcntl(f->pipe[1], F_SETPIPE_SZ, FLOW_CHUNK); /* best effort: 64 KiB is the default */
  } else {
    f->pipe[0] = f->pipe[1] = -1;
  }
}

/* Switches to copying; what is already in the pipe comes along. 0, or -1 when out of memory. */
static int flow_copy(struct flow *f) {
  if (f->buf != NULL) return 0;
  f->buf = malloc(FLOW_CHUNK);
  if (f->buf == NULL) return -1;
  f->off = 0;
  if (f->queued > 0) {
    ssize_t n = read(f->pipe[0], f->buf, f->queued);
    if (n != (ssize_t)f->queued) return -1;
  }
  return 0;
}

/* Writes what is queued; 0 when drained or `to` is full for now, -1 when the connection is over. */
static int flow_write(struct flow *f) {
  while (f->queued > 0) {
    ssize_t n = f->buf == NULL ? splice(f->pipe[0], NULL, f->to, NULL, f->queued, SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
                               : write(f->to, f->buf + f->off, f->queued);
    if (n > 0) {
      f->queued -= (size_t)n;
      f->off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n < 0 && errno == EINVAL && f->buf == NULL) {
      if (flow_copy(f) < 0) return -1;
      continue;
    }
    return -1;
  }
  f->off = 0;
  if (f->ended && !f->done) {
    f->done = 1;
    if (shutdown(f->to, SHUT_WR) < 0 && errno == ENOTSOCK) close(f->to);
  }
  return 0;
}

/* Takes what `from` has (it polled readable) and writes it on; -1 when the connection is over. */
static int flow_read(struct flow *f) {
  for (;;) {
    ssize_t n = f->buf == NULL ? splice(f->from, NULL, f->pipe[1], NULL, FLOW_CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
                               : read(f->from, f->buf, FLOW_CHUNK);
    if (n > 0) {
      f->queued = (size_t)n;
      f->off = 0;
      break;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n < 0 && errno == EINVAL && f->buf == NULL) {
      if (flow_copy(f) < 0) return -1;
      continue;
    }
    f->ended = 1; /* EOF, or a reset: the end is passed on either way */
    break;
  }
  return flow_write(f);
}

static void no_delay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on a non-TCP fd */
}

/*
 * Relays both ways until both directions have ended; half-closes are passed on. a_in/a_out are one
 * socket (the relay) or stdin/stdout (connect); b is the socket towards the proxy.
 */
static void pump(int a_in, int a_out, int b) {
  signal(SIGPIPE, SIG_IGN); /* a peer gone is an EPIPE from write, not a kill */
  struct flow up, down;
  flow_init(&up, a_in, b);
  flow_init(&down, b, a_out);
  struct flow *flows[2] = {&up, &down};
  while (!(up.done && down.done)) {
    struct pollfd p[2];
    for (int i = 0; i < 2; i++) {
      struct flow *f = flows[i];
      if (f->done) p[i] = (struct pollfd){-1, 0, 0};
      else if (f->queued > 0) p[i] = (struct pollfd){f->to, POLLOUT, 0};
      else p[i] = (struct pollfd){f->from, POLLIN, 0};
    }
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; i++) {
      struct flow *f = flows[i];
      if (f->done || p[i].revents == 0) continue;
      if ((f->queued > 0 ? flow_write(f) : flow_read(f)) < 0) return;
    }
  }
}

/*
 * Sends `fd` over the Unix socket `u` (SCM_RIGHTS, with one byte: a stream socket carries no fd
 * without data). 0, or -1.
 */
/* One SCM_RIGHTS control message carrying one fd; `m` points into it and `io` until it is sent. */
struct fd_message {
  struct msghdr m;
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
};

static void fd_message(struct fd_message *out, struct iovec *io, int fd) {
  memset(out, 0, sizeof *out);
  out->m.msg_iov = io;
  out->m.msg_iovlen = 1;
  out->m.msg_control = out->control.space;
  out->m.msg_controllen = sizeof out->control.space;
  struct cmsghdr *c = CMSG_FIRSTHDR(&out->m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
}

static int send_fd(int u, int fd) {
  char byte = 'c';
  struct iovec io = {&byte, 1};
  struct fd_message fm;
  fd_message(&fm, &io, fd);
  for (;;) {
    ssize_t n = sendmsg(u, &fm.m, MSG_NOSIGNAL);
    if (n == 1) return 0;
    if (n < 0 && errno == EINTR) continue;
    return -1;
  }
}

/*
 * Every accepted connection is passed, as a socket, to the Unix socket at `path` (warden's splice
 * helper, listening for this run alone); the relay keeps no copy and moves no bytes. The helper hands
 * it to the proxy, which judges it and then has the helper splice it straight to its upstream: one
 * hop and no process per connection here (it was a fork and a Unix-socket stream per connection).
 * Nothing reachable: the connection is closed (fail closed).
 */
static void relay(int *listeners, int count, const char *path) {
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct sockaddr_un a = {0};
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
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
      no_delay(c);
      int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (u >= 0 && connect(u, (struct sockaddr *)&a, sizeof a) == 0) send_fd(u, c);
      if (u >= 0) close(u);
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
  no_delay(s);
  if (strncmp(head, "HTTP/1.1 200", 12) != 0 && strncmp(head, "HTTP/1.0 200", 12) != 0) {
    char *eol = strstr(head, "\r\n");
    if (eol) *eol = 0;
    fprintf(stderr, "warden-netns: the proxy refused %s:%s: %s\n", argv[3], argv[4], head);
    return 1;
  }
  pump(0, 1, s);
  return 0;
}

/* --- splice: the host side, fed by the relays and by the proxy over node's IPC channel --- */

/* An allowed connection: the command's socket and its upstream, relayed both ways in this process. */
struct conn {
  long run;
  int a, b;
  struct flow up, down; /* a to b, b to a */
};

struct half {
  long pair, run;
  int fd;
};

/* A run's listener (the Unix socket its relay passes connections to), or a relay's connection on it
   whose socket has not arrived yet. */
struct watched {
  int fd;
  long run;
  int listener;
};

/* A relay's connection on its way to the proxy (sent one at a time: node takes one fd per read). */
struct outgoing {
  int fd;
  long run;
};

#define MAX_WATCHED 256
#define MAX_OUTGOING 1024

static struct conn **conns;
static size_t nconns, capconns;
static struct half waiting[64];
static size_t nwaiting;
static struct watched watched[MAX_WATCHED];
static size_t nwatched;
static struct outgoing outq[MAX_OUTGOING];
static size_t noutq;
static int awaiting_ack; /* a socket was sent to node and not yet acknowledged */

static long json_number(const char *line, const char *key) {
  const char *at = strstr(line, key);
  return at == NULL ? -1 : strtol(at + strlen(key), NULL, 10);
}

static void flow_free(struct flow *f) {
  if (f->pipe[0] >= 0) close(f->pipe[0]);
  if (f->pipe[1] >= 0) close(f->pipe[1]);
  free(f->buf);
}

/* Ends connection `i`: both sockets closed (the peers see the end), its pipes freed. */
static void conn_end(size_t i) {
  struct conn *c = conns[i];
  conns[i] = conns[--nconns];
  close(c->a);
  close(c->b);
  flow_free(&c->up);
  flow_free(&c->down);
  free(c);
}

static void write_line(int ch, const char *text) {
  size_t len = strlen(text);
  if (write(ch, text, len) != (ssize_t)len) _exit(1); /* the proxy is gone: so is everything here */
}

/*
 * Relays the pair in this process's poll loop, as pump() does for one: no process per connection (a
 * fork and its scheduling were most of the hand-over's cost on a busy machine). Every call on it is
 * non-blocking, so one slow peer holds up nothing else.
 */
static void start_pair(long run, int a, int b) {
  if (nconns == capconns) {
    capconns = capconns ? capconns * 2 : 64;
    conns = realloc(conns, capconns * sizeof *conns);
    if (conns == NULL) die("realloc");
  }
  struct conn *c = malloc(sizeof *c);
  if (c == NULL) {
    close(a); /* the connection is dropped: closed, never opened wider */
    close(b);
    return;
  }
  fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK);
  fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK);
  c->run = run;
  c->a = a;
  c->b = b;
  flow_init(&c->up, a, b);
  flow_init(&c->down, b, a);
  conns[nconns++] = c;
}

/* The pollfd a flow waits on: its `to` while it has bytes queued, else its `from`; none once done. */
static struct pollfd flow_poll(const struct flow *f) {
  if (f->done) return (struct pollfd){-1, 0, 0};
  if (f->queued > 0) return (struct pollfd){f->to, POLLOUT, 0};
  return (struct pollfd){f->from, POLLIN, 0};
}

/* Sends the next relay connection to node as a net.Socket handle, if none is waiting for its ack. */
static void flush_outgoing(int ch) {
  if (awaiting_ack || noutq == 0) return;
  struct outgoing o = outq[0];
  memmove(outq, outq + 1, --noutq * sizeof *outq);
  char text[128];
  snprintf(text, sizeof text, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"connection\":%ld}}\n", o.run);
  size_t len = strlen(text);
  struct iovec io = {text, len};
  struct fd_message fm;
  fd_message(&fm, &io, o.fd);
  ssize_t n;
  do n = sendmsg(ch, &fm.m, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)len) _exit(1);
  close(o.fd); /* node holds its own copy now */
  awaiting_ack = 1;
}

/*
 * A relay's message on a run's listener: one byte and the connection's socket. Only a TCP stream
 * socket is passed on (node would make a handle of whatever it got); anything else is closed.
 */
static void take_connection(int ch, size_t at) {
  struct watched w = watched[at];
  char byte;
  struct iovec io = {&byte, 1};
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int) * 4)];
  } control;
  struct msghdr m = {0};
  m.msg_iov = &io;
  m.msg_iovlen = 1;
  m.msg_control = control.space;
  m.msg_controllen = sizeof control.space;
  ssize_t n;
  do n = recvmsg(w.fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return; /* not here yet: still watched */
  watched[at] = watched[--nwatched];
  close(w.fd);
  int fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n > 0 && c != NULL; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t k = 0; k < count; k++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + k * sizeof(int), sizeof got);
      if (fd < 0) fd = got;
      else close(got);
    }
  }
  if (fd < 0) return;
  int type = 0, domain = 0;
  socklen_t tl = sizeof type, dl = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM ||
      getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) < 0 || (domain != AF_INET && domain != AF_INET6) ||
      noutq == MAX_OUTGOING) {
    close(fd);
    return;
  }
  outq[noutq++] = (struct outgoing){fd, w.run};
  flush_outgoing(ch);
}

/* {"listen":R,"path":"P"}: a listener for run R's relay at P (in warden's private directory). */
static void listen_for(int ch, const char *line) {
  long run = json_number(line, "\"listen\":");
  const char *p = strstr(line, "\"path\":\"");
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  char reply[64];
  int fd = -1;
  if (p != NULL) {
    p += strlen("\"path\":\"");
    const char *q = strchr(p, '"');
    /* node sends no escapes (it refuses such paths), so the string ends at the next quote */
    if (q != NULL && (size_t)(q - p) < sizeof path && memchr(p, '\\', (size_t)(q - p)) == NULL && nwatched < MAX_WATCHED) {
      memcpy(path, p, (size_t)(q - p));
      path[q - p] = 0;
      struct sockaddr_un a = {0};
      a.sun_family = AF_UNIX;
      memcpy(a.sun_path, path, strlen(path) + 1);
      fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd >= 0 && (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0)) {
        close(fd);
        fd = -1;
      }
    }
  }
  if (fd >= 0) watched[nwatched++] = (struct watched){fd, run, 1};
  snprintf(reply, sizeof reply, fd >= 0 ? "{\"listening\":%ld}\n" : "{\"notListening\":%ld}\n", run);
  write_line(ch, reply);
}

/* {"close":R}: run R is over: its listener, its connections still on their way, its pairs. */
static void close_run(long run) {
  for (size_t i = 0; i < nwatched;) {
    if (watched[i].run == run) {
      close(watched[i].fd);
      watched[i] = watched[--nwatched];
    } else i++;
  }
  for (size_t i = 0; i < noutq;) {
    if (outq[i].run == run) {
      close(outq[i].fd);
      memmove(outq + i, outq + i + 1, (--noutq - i) * sizeof *outq);
    } else i++;
  }
  for (size_t i = 0; i < nwaiting;) {
    if (waiting[i].run == run) {
      close(waiting[i].fd);
      waiting[i] = waiting[--nwaiting];
    } else i++;
  }
  for (size_t i = 0; i < nconns;) {
    if (conns[i]->run == run) conn_end(i);
    else i++;
  }
}

/* One message from the proxy; `fd` is the socket that came with it, or -1. */
static void on_message(int ch, const char *line, int fd) {
  static const char ack[] = "{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
  static const char nack[] = "{\"cmd\":\"NODE_HANDLE_NACK\"}\n";
  if (strstr(line, "\"cmd\":\"NODE_HANDLE\"") != NULL) {
    if (fd < 0) {
      write_line(ch, nack);
      return;
    }
    write_line(ch, ack);
    long pair = json_number(line, "\"pair\":"), run = json_number(line, "\"run\":");
    for (size_t i = 0; i < nwaiting; i++) {
      if (waiting[i].pair == pair) {
        int a = waiting[i].fd;
        waiting[i] = waiting[--nwaiting];
        start_pair(run, a, fd);
        return;
      }
    }
    if (nwaiting == sizeof waiting / sizeof *waiting) {
      close(fd);
      return;
    }
    waiting[nwaiting++] = (struct half){pair, run, fd};
    return;
  }
  if (fd >= 0) close(fd);
  if (strstr(line, "\"cmd\":\"NODE_HANDLE_ACK\"") != NULL || strstr(line, "\"cmd\":\"NODE_HANDLE_NACK\"") != NULL) {
    awaiting_ack = 0; /* a NACK: node lost that connection, which is closed with it */
    flush_outgoing(ch);
    return;
  }
  if (strstr(line, "\"listen\":") != NULL) return listen_for(ch, line);
  long run = json_number(line, "\"close\":");
  if (run >= 0) close_run(run);
}

/* Reads what node sent on the channel; 0 when the channel is closed. */
static int read_channel(int ch) {
  static char line[65536];
  static size_t len;
  static int fds[64];
  static size_t nfds;
  char data[16384];
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int) * 8)];
  } control;
  struct iovec io = {data, sizeof data};
  struct msghdr m = {0};
  m.msg_iov = &io;
  m.msg_iovlen = 1;
  m.msg_control = control.space;
  m.msg_controllen = sizeof control.space;
  ssize_t n = recvmsg(ch, &m, MSG_CMSG_CLOEXEC);
  if (n < 0 && errno == EINTR) return 1;
  if (n <= 0) return 0; /* the proxy closed the channel: its connections go with it */
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t k = 0; k < count; k++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
      if (nfds < sizeof fds / sizeof *fds) fds[nfds++] = fd;
      else close(fd);
    }
  }
  for (ssize_t i = 0; i < n; i++) {
    if (data[i] != '\n') {
      if (len < sizeof line - 1) line[len++] = data[i];
      continue;
    }
    line[len] = 0;
    len = 0;
    int fd = -1;
    if (strstr(line, "\"cmd\":\"NODE_HANDLE\"") != NULL && nfds > 0) {
      fd = fds[0];
      memmove(fds, fds + 1, --nfds * sizeof *fds);
    }
    on_message(ch, line, fd);
  }
  return 1;
}

static int splice_mode(void) {
  const char *env = getenv("NODE_CHANNEL_FD");
  if (env == NULL) return 2;
  int ch = atoi(env);
  signal(SIGPIPE, SIG_IGN); /* a peer gone is an EPIPE from write, not a kill */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) _exit(0); /* the proxy is gone already */
  /* Six fds per connection (two sockets, two pipes): as many as the hard limit allows. */
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  int spare = open("/dev/null", O_RDONLY | O_CLOEXEC); /* see the accept below */
  struct pollfd *p = NULL;
  size_t capp = 0;
  for (;;) {
    size_t need = 1 + nwatched + 2 * nconns;
    if (need > capp) {
      capp = need * 2;
      p = realloc(p, capp * sizeof *p);
      if (p == NULL) die("realloc");
    }
    p[0] = (struct pollfd){ch, POLLIN, 0};
    for (size_t i = 0; i < nwatched; i++) p[1 + i] = (struct pollfd){watched[i].fd, POLLIN, 0};
    size_t polled = nwatched, pairs = nconns;
    struct pollfd *pp = p + 1 + polled;
    for (size_t i = 0; i < pairs; i++) {
      pp[2 * i] = flow_poll(&conns[i]->up);
      pp[2 * i + 1] = flow_poll(&conns[i]->down);
    }
    if (poll(p, (nfds_t)(1 + polled + 2 * pairs), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    /* Connections, from the last (conn_end moves the last one into the slot it frees), then the
       listeners and relays' connections (likewise), then the channel, whose messages may close some. */
    for (size_t i = pairs; i-- > 0;) {
      struct conn *c = conns[i];
      int over = 0;
      struct flow *f[2] = {&c->up, &c->down};
      for (int k = 0; k < 2 && !over; k++) {
        if (f[k]->done || pp[2 * i + k].revents == 0) continue;
        if ((f[k]->queued > 0 ? flow_write(f[k]) : flow_read(f[k])) < 0) over = 1;
      }
      if (over || (c->up.done && c->down.done)) conn_end(i);
    }
    for (size_t i = polled; i-- > 0;) {
      if (p[1 + i].revents == 0) continue;
      if (watched[i].listener) {
        int c = accept4(watched[i].fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0 && (errno == EMFILE || errno == ENFILE) && spare >= 0) {
          /* Out of fds: the waiting connection would keep the listener readable and this loop
             spinning. The spare fd makes room to take it and close it (refused, not left). */
          close(spare);
          c = accept4(watched[i].fd, NULL, NULL, SOCK_CLOEXEC);
          if (c >= 0) close(c);
          c = -1;
          spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        if (c >= 0 && nwatched < MAX_WATCHED) {
          watched[nwatched++] = (struct watched){c, watched[i].run, 0};
          take_connection(ch, nwatched - 1); /* the relay sends as soon as it is connected: often here already */
        } else if (c >= 0) {
          close(c);
        }
      } else {
        take_connection(ch, i);
      }
    }
    if (p[0].revents != 0 && !read_channel(ch)) break;
  }
  return 0; /* every connection closes with this process */
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
  if (argc == 2 && strcmp(argv[1], "splice") == 0) {
    int r = splice_mode();
    if (r == 2) fprintf(stderr, "warden-netns splice: started without a node IPC channel\n");
    return r;
  }
  fprintf(stderr, "usage: warden-netns run ... | connect ... | splice\n");
  return 2;
}
