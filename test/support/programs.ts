/**
 * Stand-in program locators for classifier tests: where a run's PATH would find a bare name.
 * `systemPrograms` places every name in /usr/bin (a clean PATH); `programsAt` places the listed
 * names where a test says (a planted `./ls`) and the rest in /usr/bin.
 */
import type { ProgramLocator } from '../../src/safety/programs/programPath.ts';

export const systemPrograms: ProgramLocator = (name) => `/usr/bin/${name}`;

export function programsAt(places: Readonly<Record<string, string | null>>): ProgramLocator {
  return (name) => (Object.hasOwn(places, name) ? places[name]! : systemPrograms(name));
}
