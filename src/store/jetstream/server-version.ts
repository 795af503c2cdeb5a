import { assert } from '../../errors.js';

/**
 * nats-server version strings ("2.9.10", "2.10.0-RC.1", "2.12.3+build") and a tiny semver
 * compare, so the start-up check needs no dependency. Pure.
 */

export interface ServerVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release identifiers ("RC", "1" for "-RC.1"); empty for a release. */
  readonly prerelease: readonly string[];
}

// Semver 2.0.0's shape; a leading "v" is accepted because release tags carry one.
const versionPattern =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** The version, or undefined when the text is not a semver version. */
export function parseServerVersion(text: string): ServerVersion | undefined {
  const m = versionPattern.exec(text.trim());
  if (m === null) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    prerelease: m[4] === undefined ? [] : m[4].split('.'),
  };
}

/** Negative when a < b, zero when equal, positive when a > b (semver 2.0.0 precedence). */
export function compareServerVersions(a: ServerVersion, b: ServerVersion): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  // A release ranks above any of its pre-releases: 2.10.0-RC.1 < 2.10.0.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return Math.sign(b.prerelease.length - a.prerelease.length);
  }
  const n = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i++) {
    const c = comparePrereleaseId(a.prerelease[i]!, b.prerelease[i]!);
    if (c !== 0) return c;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

function comparePrereleaseId(a: string, b: string): number {
  const numA = /^\d+$/.test(a);
  const numB = /^\d+$/.test(b);
  if (numA && numB) return Math.sign(Number(a) - Number(b));
  if (numA !== numB) return numA ? -1 : 1; // numeric identifiers rank lower
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when `version` is `min` or later; `min` must be a valid version literal. */
export function atLeast(version: ServerVersion, min: string): boolean {
  const m = parseServerVersion(min);
  assert(m !== undefined, `not a version literal: ${min}`);
  return compareServerVersions(version, m) >= 0;
}

export function formatServerVersion(v: ServerVersion): string {
  const pre = v.prerelease.length === 0 ? '' : `-${v.prerelease.join('.')}`;
  return `${v.major}.${v.minor}.${v.patch}${pre}`;
}
