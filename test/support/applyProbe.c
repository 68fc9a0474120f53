/*
 * Preloaded into native/build/warden-apply by test/unit/patch.helper.attack.test.ts (LD_PRELOAD):
 * at the helper's first read of a request (after its seccomp filter is in place) it tries every way
 * to make a process (or have another make one: ptrace) or a socket, and writes one `probe NAME RESULT` line per try on stderr, RESULT being the
 * errno or `ok` (a child of a try that worked leaves at once). With WARDEN_PROBE_FAIL=prctl or
 * =seccomp it instead makes that step of the filter's installation fail, to see the helper refuse
 * to run without it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *failing(void) {
  const char *f = getenv("WARDEN_PROBE_FAIL");
  return f ? f : "";
}

int prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d) {
  if (strcmp(failing(), "prctl") == 0) {
    errno = EINVAL;
    return -1;
  }
  int (*real)(int, unsigned long, unsigned long, unsigned long, unsigned long) = dlsym(RTLD_NEXT, "prctl");
  return real(option, a, b, c, d);
}

long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a[6];
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
#ifdef __NR_seccomp
  if (nr == __NR_seccomp && strcmp(failing(), "seccomp") == 0) {
    errno = EINVAL;
    return -1;
  }
#endif
  long (*real)(long, ...) = dlsym(RTLD_NEXT, "syscall");
  return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* `forks`: 0 back means this is the child of a try that worked, which leaves at once */
static void try(const char *name, long nr, long a0, long a1, long a2, int forks) {
  errno = 0;
  long (*real)(long, ...) = dlsym(RTLD_NEXT, "syscall");
  long r = real(nr, a0, a1, a2, 0L, 0L, 0L);
  char line[128];
  int n = r < 0 ? snprintf(line, sizeof line, "probe %s %d\n", name, errno) : snprintf(line, sizeof line, "probe %s ok\n", name);
  if (r == 0 && forks) _exit(0);
  write(2, line, (size_t)n);
}

static int probed;

ssize_t read(int fd, void *buf, size_t n) {
  if (!probed && fd == 0) {
    probed = 1;
    static char *const argv[] = {"/bin/true", NULL};
#ifdef __NR_fork
    try("fork", __NR_fork, 0, 0, 0, 1);
#endif
    try("clone", __NR_clone, 17 /* SIGCHLD */, 0, 0, 1);
#ifdef __NR_clone3
    try("clone3", __NR_clone3, 0, 0, 0, 1);
#endif
    try("execve", __NR_execve, (long)"/bin/true", (long)argv, 0, 0);
    /* at a pid that does not exist: ESRCH past the filter, EPERM from it (never a real target) */
    try("ptrace", __NR_ptrace, 0x4206 /* PTRACE_SEIZE */, 0x3ffffff0, 0, 0);
    try("process_vm_writev", __NR_process_vm_writev, 0x3ffffff0, 0, 1 /* one iovec, at NULL */, 0);
#if defined(__x86_64__)
    /* the x32 ABI: the same audit arch, numbers with bit 30 set */
    try("x32-fork", 0x40000000L | 57, 0, 0, 0, 1);
    try("x32-clone", 0x40000000L | 56, 17, 0, 0, 1);
    try("x32-execve", 0x40000000L | 520, (long)"/bin/true", (long)argv, 0, 0);
#endif
    /* it runs in the host's network namespace: no socket at all (an abstract Unix one is the host's).
     * socketpair's missing array is EFAULT past the filter, EPERM from it. */
    try("socket-inet", __NR_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0, 0);
    try("socket-unix", __NR_socket, 1 /* AF_UNIX */, 2 /* SOCK_DGRAM */, 0, 0);
    try("socketpair", __NR_socketpair, 1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0, 0);
  }
  ssize_t (*real)(int, void *, size_t) = dlsym(RTLD_NEXT, "read");
  return real(fd, buf, n);
}
