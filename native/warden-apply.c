/*
 * warden-apply: the file-system hands of the patch applier. It runs inside the same bwrap sandbox a
 * node applier ran in, and does one file-system call per request that warden sends on stdin,
 * answering each on stdout; warden's own code (src/safety/patch/applyPatch.ts over
 * remotePatchFs.ts) decides everything: what to read, what to write, the rollback. So every read
 * sees what the sandbox shows (a hidden file is the decoy, a symlink to a hidden path leads to the
 * decoy) and every write lands only where the sandbox lets it, while the patch logic exists once.
 *
 * Why C and not node: node's own start is ~60 ms, the whole apply_patch call has 30 ms (issue #14);
 * this starts in about a millisecond.
 *
 * Protocol (little-endian). A request: u32 length of the rest, u8 op, then fields, each u32 length and
 * bytes. An answer: u32 length of the rest, i32 status (0, or the errno of the failed call), then
 * fields the same way; a failure's one field names the call that failed (open, fsync ...). EOF at a
 * request boundary ends the process with exit 0. A malformed request (truncated, too long, unknown op,
 * wrong fields) ends it with one `warden-apply: ...` line on stderr and exit 2, before any call:
 * nothing half-understood is ever done. A path with a NUL byte is refused (EINVAL), never cut short.
 *
 *   LSTAT path / STAT path      -> u32 kind (0 file, 1 dir, 2 symlink, 3 other), mode, uid, gid
 *   READ path                   -> the bytes of a regular file (followed through links, as readFile)
 *   READLINK path               -> the link's text
 *   MKDIRP path                 -> the topmost directory it created, or an empty field (mkdir -p)
 *   WRITENEW path data mode uid gid -> a new file: O_EXCL|O_NOFOLLOW, fchmod (mode >= 0), fchown
 *                                  (uid >= 0 and running as root), fsync; mode/uid/gid are i64 fields
 *   RENAME from to / UNLINK path / RMDIR path / SYMLINK target path / SYNCDIR path (fsync of a dir)
 *   READDIR path                -> one field per entry name
 *
 * It makes no process and no socket, and on Linux says so to the kernel first thing: a seccomp filter
 * of its own fails every fork, clone and exec with EPERM (and ptrace, which could make another process
 * fork), and every socket and socketpair (so it needs no network namespace of its own).
 * So warden runs it without the run's process-limit cgroup, whose join costs 10-15 ms (cgroup v1
 * waits an RCU grace period on every move) of the 30.
 */
#define _GNU_SOURCE
#include <dirent.h>
#ifdef __linux__
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum { LSTAT = 1, STAT, READ, READLINK, MKDIRP, WRITENEW, RENAME, UNLINK, RMDIR, READDIR, SYMLINK, SYNCDIR };

/* A request may carry a whole file's new contents; anything beyond this is not one warden sends. */
#define MAX_FRAME (1u << 30)
#define MAX_FIELDS 5
/* The largest file READ answers: its answer (status, field length, bytes) is one frame. */
#define MAX_READ (MAX_FRAME - 8)

struct field {
  const char *p;
  uint32_t len;
};

static void die(const char *what) {
  fprintf(stderr, "warden-apply: %s\n", what);
  exit(2);
}

static uint32_t u32_at(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads exactly n bytes; 0 at EOF before the first byte, 1 when read, dies on EOF in the middle. */
static int read_full(int fd, void *buf, size_t n, int eof_ok) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("cannot read the request");
    if (r == 0) {
      if (got == 0 && eof_ok) return 0;
      die("truncated request");
    }
    got += (size_t)r;
  }
  return 1;
}

static void write_full(const void *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(1, (const char *)buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) exit(3); /* warden went away: nothing to answer to */
    done += (size_t)w;
  }
}

/* The answer being built: status and fields, sent in one write. */
static unsigned char *out;
static size_t out_len, out_cap;

static void out_bytes(const void *p, size_t n) {
  if (out_len + n > out_cap) {
    size_t cap = out_cap ? out_cap : 4096;
    while (cap < out_len + n) cap *= 2;
    out = realloc(out, cap);
    if (!out) die("out of memory");
    out_cap = cap;
  }
  memcpy(out + out_len, p, n);
  out_len += n;
}

static void out_u32(uint32_t v) {
  unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  out_bytes(b, 4);
}

static void out_field(const void *p, size_t n) {
  if (n > MAX_FRAME) die("answer too large");
  out_u32((uint32_t)n);
  out_bytes(p, n);
}

static void begin(int status) {
  out_len = 0;
  out_u32(0); /* length, set by send() */
  out_u32((uint32_t)status);
}

/* Sends the answer built, then `tail` (a file's bytes, written from where they are, not copied). */
static void send_answer_with(const void *tail, size_t tail_len) {
  if (out_len - 4 + tail_len > MAX_FRAME) die("answer too large");
  uint32_t n = (uint32_t)(out_len - 4 + tail_len);
  out[0] = n & 0xff, out[1] = (n >> 8) & 0xff, out[2] = (n >> 16) & 0xff, out[3] = (n >> 24) & 0xff;
  write_full(out, out_len);
  if (tail_len > 0) write_full(tail, tail_len);
}

static void send_answer(void) { send_answer_with(NULL, 0); }

static void fail(const char *call) {
  int e = errno ? errno : EIO;
  begin(e);
  out_field(call, strlen(call));
  send_answer();
}

static void ok_empty(void) {
  begin(0);
  send_answer();
}

/* A field as a C string; NULL (EINVAL) when it holds a NUL, which C would silently cut the path at. */
static char *cstr(struct field f) {
  if (memchr(f.p, 0, f.len) != NULL) return NULL;
  char *s = malloc((size_t)f.len + 1);
  if (!s) die("out of memory");
  memcpy(s, f.p, f.len);
  s[f.len] = 0;
  return s;
}

static int64_t i64_of(struct field f) {
  if (f.len != 8) die("malformed request: an integer field is not 8 bytes");
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | (unsigned char)f.p[i];
  return (int64_t)v;
}

static void answer_stat(const struct stat *st) {
  uint32_t kind = S_ISREG(st->st_mode) ? 0 : S_ISDIR(st->st_mode) ? 1 : S_ISLNK(st->st_mode) ? 2 : 3;
  begin(0);
  out_u32(16);
  out_u32(kind);
  out_u32((uint32_t)st->st_mode & 07777);
  out_u32((uint32_t)st->st_uid);
  out_u32((uint32_t)st->st_gid);
  send_answer();
}

static void do_read(const char *path) {
  /* O_NONBLOCK: a FIFO planted at the path must not hang the applier; only a regular file is read. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return fail("open");
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return fail("fstat");
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    return fail("read");
  }
#ifdef __linux__
  /* /proc and /sys are not files a patch is for, and /proc/self is this helper: a workspace link to
   * /proc/self/environ and an update that only adds a line would write warden's environment for it
   * into the workspace. Refused like a non-file (the patch cannot be applied to it). */
  struct statfs fs;
  if (fstatfs(fd, &fs) < 0 || fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC) {
    close(fd);
    errno = EINVAL;
    return fail("read");
  }
#endif
  /* Judged by its size before any allocation: a sparse file of many GiB (truncate -s, no disk) must
   * not be read into memory only to be refused at the end, with the machine's memory gone. */
  if (st.st_size > (off_t)MAX_READ) {
    close(fd);
    errno = EFBIG;
    return fail("read");
  }
  /* one byte more than its size, so EOF is seen without growing */
  size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, len = 0;
  char *buf = malloc(cap);
  if (!buf) die("out of memory");
  for (;;) {
    if (len == cap) {
      /* it grew while read (or is a file whose size says nothing, as in /proc) */
      if (cap > MAX_READ) {
        free(buf);
        close(fd);
        errno = EFBIG;
        return fail("read");
      }
      cap = cap > MAX_READ / 2 ? MAX_READ + 1 : cap * 2;
      buf = realloc(buf, cap);
      if (!buf) die("out of memory");
    }
    ssize_t r = read(fd, buf + len, cap - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      errno = e;
      return fail("read");
    }
    if (r == 0) break;
    len += (size_t)r;
  }
  close(fd);
  begin(0);
  out_u32((uint32_t)len);
  send_answer_with(buf, len);
  free(buf);
}

/* The topmost directory made is what the rollback removes: one not recorded would stay behind. */
static void note_made(char **first, const char *path) {
  if (*first) return;
  *first = strdup(path);
  if (!*first) die("out of memory");
}

/* mkdir -p; *first is set to the topmost directory this call created (malloc'd), if any. */
static int mkdirp(const char *path, char **first) {
  if (mkdir(path, 0777) == 0) {
    note_made(first, path);
    return 0;
  }
  if (errno == EEXIST) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    errno = EEXIST;
    return -1;
  }
  if (errno != ENOENT) return -1;
  char *parent = strdup(path);
  if (!parent) die("out of memory");
  char *slash = strrchr(parent, '/');
  while (slash && slash > parent && slash[1] == 0) { /* a trailing slash */
    *slash = 0;
    slash = strrchr(parent, '/');
  }
  if (!slash || slash == parent) {
    free(parent);
    errno = ENOENT;
    return -1;
  }
  *slash = 0;
  int r = mkdirp(parent, first);
  free(parent);
  if (r < 0) return -1;
  if (mkdir(path, 0777) == 0) {
    note_made(first, path);
    return 0;
  }
  return -1;
}

static void do_writenew(const char *path, struct field data, int64_t mode, int64_t uid, int64_t gid) {
  /* O_EXCL + O_NOFOLLOW: never write through something planted at the (temporary) name. */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode >= 0 ? (mode_t)(mode & 07777) : 0666);
  if (fd < 0) return fail("open");
  const char *call = NULL;
  size_t done = 0;
  while (done < data.len) {
    ssize_t w = write(fd, data.p + done, data.len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      call = "write";
      break;
    }
    done += (size_t)w;
  }
  /* open's mode is masked by the umask; the file keeps the mode it had */
  if (!call && mode >= 0 && fchmod(fd, (mode_t)(mode & 0777)) < 0) call = "fchmod";
  /* renaming a new file in would hand another user's file to root: keep the owner */
  if (!call && uid >= 0 && geteuid() == 0 && fchown(fd, (uid_t)uid, (gid_t)gid) < 0) call = "fchown";
  if (!call && fsync(fd) < 0) call = "fsync";
  int e = errno;
  if (close(fd) < 0 && !call) {
    e = errno;
    call = "close";
  }
  if (call) {
    errno = e;
    return fail(call);
  }
  ok_empty();
}

static void do_readdir(const char *path) {
  DIR *d = opendir(path);
  if (!d) return fail("scandir");
  begin(0);
  struct dirent *e;
  /* readdir says an error only through errno: cleared before each call, so a value left by the
   * answer's own realloc is not taken for one */
  for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    out_field(e->d_name, strlen(e->d_name));
  }
  int err = errno;
  closedir(d);
  if (err) {
    errno = err;
    return fail("scandir");
  }
  send_answer();
}

static void do_syncdir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail("open");
  if (fsync(fd) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return fail("fsync");
  }
  close(fd);
  ok_empty();
}

/* How many fields each op takes. */
static int fields_of(int op) {
  switch (op) {
    case LSTAT: case STAT: case READ: case READLINK: case MKDIRP: case UNLINK: case RMDIR: case READDIR: case SYNCDIR:
      return 1;
    case RENAME: case SYMLINK:
      return 2;
    case WRITENEW:
      return 5;
    default:
      return -1;
  }
}

static void handle(int op, struct field *f) {
  /* Path fields first: one with a NUL byte is refused whole (EINVAL), before any call. */
  int paths = op == RENAME || op == SYMLINK ? 2 : 1;
  char *a = cstr(f[0]);
  char *b = paths == 2 ? cstr(f[1]) : NULL;
  if (!a || (paths == 2 && !b)) {
    free(a);
    free(b);
    errno = EINVAL;
    return fail("path");
  }
  struct stat st;
  switch (op) {
    case LSTAT:
      if (lstat(a, &st) < 0) fail("lstat");
      else answer_stat(&st);
      break;
    case STAT:
      if (stat(a, &st) < 0) fail("stat");
      else answer_stat(&st);
      break;
    case READ:
      do_read(a);
      break;
    case READLINK: {
      char buf[PATH_MAX + 1];
      ssize_t n = readlink(a, buf, sizeof buf);
      /* a text that fills the buffer may be cut short: never restore a link to half its target */
      if (n == (ssize_t)sizeof buf) errno = ENAMETOOLONG, n = -1;
      if (n < 0) fail("readlink");
      else {
        begin(0);
        out_field(buf, (size_t)n);
        send_answer();
      }
      break;
    }
    case MKDIRP: {
      char *first = NULL;
      if (mkdirp(a, &first) < 0) fail("mkdir");
      else {
        begin(0);
        out_field(first ? first : "", first ? strlen(first) : 0);
        send_answer();
      }
      free(first);
      break;
    }
    case WRITENEW:
      do_writenew(a, f[1], i64_of(f[2]), i64_of(f[3]), i64_of(f[4]));
      break;
    case RENAME:
      if (rename(a, b) < 0) fail("rename");
      else ok_empty();
      break;
    case UNLINK:
      if (unlink(a) < 0) fail("unlink");
      else ok_empty();
      break;
    case RMDIR:
      if (rmdir(a) < 0) fail("rmdir");
      else ok_empty();
      break;
    case READDIR:
      do_readdir(a);
      break;
    case SYMLINK:
      /* field 0 is the link's text, field 1 where the link goes */
      if (symlink(a, b) < 0) fail("symlink");
      else ok_empty();
      break;
    case SYNCDIR:
      do_syncdir(a);
      break;
  }
  free(a);
  free(b);
}

#ifdef __linux__
#if defined(__x86_64__)
#define OWN_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define OWN_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define OWN_ARCH AUDIT_ARCH_I386
#elif defined(__arm__)
#define OWN_ARCH AUDIT_ARCH_ARM
#elif defined(__riscv) && __riscv_xlen == 64
#define OWN_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OWN_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define OWN_ARCH AUDIT_ARCH_S390X
#else
#error "warden-apply: no seccomp filter for this architecture (add its AUDIT_ARCH here)"
#endif

#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

/* No fork, clone, exec or socket from here on (another architecture's calls are killed outright). */
static void no_processes(void) {
  struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OWN_ARCH, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
    /* The x32 ABI shares x86_64's audit arch, its numbers carry bit 30 (x32 fork is 0x40000039): where
     * a kernel has it, checking the plain numbers alone would let every x32 fork and exec through. The
     * helper makes no x32 call at all. */
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u /* __X32_SYSCALL_BIT */, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
#endif
#ifdef __NR_fork
    DENY(__NR_fork),
#endif
#ifdef __NR_vfork
    DENY(__NR_vfork),
#endif
    DENY(__NR_clone),
#ifdef __NR_clone3
    DENY(__NR_clone3),
#endif
    DENY(__NR_execve),
    DENY(__NR_execveat),
    /* Nor through another process: its parent, bwrap's pid 1, has no filter of this kind and the
     * run no process-limit cgroup, so a helper that could ptrace it (or write its memory) could have
     * it fork for the helper. */
    DENY(__NR_ptrace),
    DENY(__NR_process_vm_writev),
    DENY(__NR_process_vm_readv),
    /* No socket of any kind: warden runs it without a network namespace of its own (the network is
     * off for it; setting one up costs every patch ~1 ms), so nothing here may reach the host's,
     * not even an abstract Unix socket. */
    DENY(__NR_socket),
    DENY(__NR_socketpair),
#ifdef __NR_socketcall
    DENY(__NR_socketcall),
#endif
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
    die("cannot install its seccomp filter (no fork or exec); refusing to run without it");
}
#else
/* No seccomp here (macOS: Seatbelt confines it); there is no run cgroup to skip either. */
static void no_processes(void) {}
#endif

int main(int argc, char **argv) {
  (void)argv;
  if (argc != 1) die("takes no arguments (requests come on stdin)");
  no_processes();
  unsigned char head[4];
  char *frame = NULL;
  while (read_full(0, head, 4, 1)) {
    uint32_t len = u32_at(head);
    if (len < 1 || len > MAX_FRAME) die("malformed request: bad length");
    free(frame);
    frame = malloc(len);
    if (!frame) die("out of memory");
    read_full(0, frame, len, 0);
    int op = (unsigned char)frame[0];
    int want = fields_of(op);
    if (want < 0) die("malformed request: unknown operation");
    struct field f[MAX_FIELDS];
    uint32_t at = 1;
    for (int i = 0; i < want; i++) {
      if (len - at < 4) die("malformed request: missing field");
      uint32_t n = u32_at((unsigned char *)frame + at);
      at += 4;
      if (n > len - at) die("malformed request: field runs past the request");
      f[i].p = frame + at;
      f[i].len = n;
      at += n;
    }
    if (at != len) die("malformed request: extra bytes");
    handle(op, f);
  }
  return 0;
}
