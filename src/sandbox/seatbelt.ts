/**
 * The macOS Seatbelt profile and `sandbox-exec` invocation for a sandbox spec. Pure given an `FsProbe`
 * (roots must be canonical: /var is /private/var there, and Seatbelt matches real paths).
 *
 * Shape follows Codex's seatbelt_base_policy.sbpl: deny by default; processes, same-sandbox signals, a
 * sysctl/mach allow-list and ptys; every file may be read; writes only to /dev/null and under each
 * writable root minus its protected subpaths; network rules appended only when the network is on.
 * Paths travel as `-D` parameters, never spliced into the profile text, so no path can inject rules.
 * Hidden paths (hiddenPaths.ts) are denied to reads and writes at the end of the profile.
 * Seatbelt is path-based, so unlike bwrap a symlinked or missing `.git` needs no special case: the
 * protected subpath itself, and a symlink's resolved target, are both excluded.
 */
import type { SandboxSpec } from './types.ts';
import { SEATBELT_PATH } from './platform.ts';
import { demotedRoots, homeIslands, isWithin, planWritableRoots, type FsProbe, type RootsEnv } from './writableRoots.ts';

export const SEATBELT_BASE_POLICY = `(version 1)
; closed by default; children inherit the policy
(deny default)
(allow process-exec)
(allow process-fork)
(allow signal (target same-sandbox))
(allow process-info* (target same-sandbox))
(allow user-preference-read)
(allow file-read*)
(allow file-write-data
  (require-all (path "/dev/null") (vnode-type CHARACTER-DEVICE)))
(allow sysctl-read
  (sysctl-name "hw.activecpu")
  (sysctl-name "hw.busfrequency_compat")
  (sysctl-name "hw.byteorder")
  (sysctl-name "hw.cacheconfig")
  (sysctl-name "hw.cachelinesize_compat")
  (sysctl-name "hw.cpufamily")
  (sysctl-name "hw.cpufrequency_compat")
  (sysctl-name "hw.cputype")
  (sysctl-name "hw.l1dcachesize_compat")
  (sysctl-name "hw.l1icachesize_compat")
  (sysctl-name "hw.l2cachesize_compat")
  (sysctl-name "hw.l3cachesize_compat")
  (sysctl-name "hw.logicalcpu_max")
  (sysctl-name "hw.machine")
  (sysctl-name "hw.memsize")
  (sysctl-name "hw.ncpu")
  (sysctl-name "hw.nperflevels")
  (sysctl-name "hw.pagesize_compat")
  (sysctl-name "hw.physicalcpu_max")
  (sysctl-name "hw.tbfrequency_compat")
  (sysctl-name "hw.vectorunit")
  (sysctl-name "kern.hostname")
  (sysctl-name "kern.maxfilesperproc")
  (sysctl-name "kern.osproductversion")
  (sysctl-name "kern.osrelease")
  (sysctl-name "kern.ostype")
  (sysctl-name "kern.osvariant_status")
  (sysctl-name "kern.osversion")
  (sysctl-name "kern.secure_kernel")
  (sysctl-name "kern.usrstack64")
  (sysctl-name "kern.version")
  (sysctl-name "sysctl.proc_cputype")
  (sysctl-name-prefix "hw.optional.arm.")
  (sysctl-name-prefix "hw.optional.armv8_")
  (sysctl-name-prefix "hw.perflevel"))
(allow sysctl-write (sysctl-name "kern.grade_cputype"))
(allow iokit-open (iokit-registry-entry-class "RootDomainUserClient"))
(allow mach-lookup
  (global-name "com.apple.system.opendirectoryd.libinfo")
  (global-name "com.apple.PowerManagement.control"))
(allow pseudo-tty)
(allow file-read* file-write* file-ioctl (literal "/dev/ptmx"))
(allow file-read* file-write*
  (require-all (regex #"^/dev/ttys[0-9]+") (extension "com.apple.sandbox.pty")))
(allow file-ioctl (regex #"^/dev/ttys[0-9]+"))
(allow ipc-posix-sem)
`;

export const SEATBELT_NETWORK_POLICY = `; network: only because it was enabled
(allow network-outbound)
(allow network-inbound)
(allow system-socket)
(allow mach-lookup
  (global-name "com.apple.bsd.dirhelper")
  (global-name "com.apple.system.opendirectoryd.membership")
  (global-name "com.apple.SecurityServer")
  (global-name "com.apple.networkd")
  (global-name "com.apple.ocspd")
  (global-name "com.apple.trustd.agent")
  (global-name "com.apple.SystemConfiguration.DNSConfiguration")
  (global-name "com.apple.SystemConfiguration.configd"))
(allow sysctl-read (sysctl-name-regex #"^net.routetable"))
`;

export interface SeatbeltProfile {
  profile: string;
  /** `-DNAME=value` pairs the profile's `(param "NAME")` refer to. */
  params: Array<[string, string]>;
}

/** Does I/O only through `probe`. */
export function buildSeatbeltProfile(
  spec: SandboxSpec,
  cwd: string,
  env: RootsEnv,
  probe: FsProbe,
): SeatbeltProfile {
  const params: Array<[string, string]> = [];
  const writeRules: string[] = [];
  const plan = planWritableRoots(spec, cwd, env, probe);
  // The shared model: roots the sandbox cannot protect stay read-only, and the person's home inside
  // a root is read-only as a whole (writableRoots.ts).
  const demoted = demotedRoots(plan, probe);
  const islands = homeIslands(plan, demoted);
  plan.roots.filter((root) => !demoted.has(root.root)).forEach((root, i) => {
    const rootParam = `WRITABLE_ROOT_${i}`;
    params.push([rootParam, root.root]);
    const excluded: string[] = [];
    for (const p of root.protected) excluded.push(p.path);
    for (const p of root.protected) if (p.target !== undefined && !excluded.includes(p.target)) excluded.push(p.target);
    // A home inside this root; a root inside that home gets its own rule (any matching allow wins).
    for (const h of islands) if (h !== root.root && isWithin(h, root.root) && !excluded.includes(h)) excluded.push(h);
    const nots = excluded.map((path, j) => {
      const name = `${rootParam}_RO_${j}`;
      params.push([name, path]);
      return `(require-not (subpath (param "${name}")))`;
    });
    writeRules.push(
      nots.length === 0
        ? `(subpath (param "${rootParam}"))`
        : `(require-all (subpath (param "${rootParam}")) ${nots.join(' ')})`,
    );
  });
  let profile = SEATBELT_BASE_POLICY;
  if (writeRules.length > 0) profile += `(allow file-write*\n  ${writeRules.join('\n  ')})\n`;
  if (spec.network) profile += SEATBELT_NETWORK_POLICY;
  // Hidden paths last: in SBPL the last matching rule wins, so this beats `(allow file-read*)`.
  (spec.hidden ?? []).forEach((path, i) => {
    params.push([`HIDDEN_${i}`, path]);
    profile += `(deny file-read* file-write* (subpath (param "HIDDEN_${i}")))\n`;
  });
  return { profile, params };
}

/** The full argv: `/usr/bin/sandbox-exec -p <profile> -DK=V… -- command…`. */
export function seatbeltArgv(profile: SeatbeltProfile, command: string[]): string[] {
  if (command.length === 0) throw new TypeError('empty command');
  return [SEATBELT_PATH, '-p', profile.profile, ...profile.params.map(([k, v]) => `-D${k}=${v}`), '--', ...command];
}
