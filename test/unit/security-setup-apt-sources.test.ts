import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// Issue 10 part 1: scripts/lib/apt-sources.sh read on fixture apt trees (APT_ROOT), and setup.sh never
// failing silently. Every query runs under the same `set -Eeuo pipefail` as setup.sh.

const repo = join(import.meta.dirname, '..', '..');
const lib = join(repo, 'scripts', 'lib', 'apt-sources.sh');
const temps: string[] = [];

afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plenum-apt-'));
  temps.push(dir);
  return dir;
}

/** A fixture root: paths relative to it (e.g. etc/apt/sources.list) → file contents. */
function aptRoot(files: Record<string, string>): string {
  const root = tempDir();
  mkdirSync(join(root, 'etc', 'apt'), { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

interface Answer {
  status: number | null;
  stdout: string;
  stderr: string;
}

function bash(script: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Answer {
  const r = spawnSync('bash', ['-c', script, 'bash', ...args], { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What setup.sh asks: the entries, the mirror serving bookworm, and whether backports is configured. */
function read(root: string): { entries: string[]; mirror: string; backports: boolean; answer: Answer } {
  const answer = bash(
    `set -Eeuo pipefail
     . "$1"
     entries="$(apt_sources_entries)"
     mirror="$(apt_mirror_for bookworm)"
     backports=no
     if apt_has_suite bookworm-backports; then backports=yes; fi
     printf '%s\\n--\\n%s\\n--\\n%s\\n' "$entries" "$mirror" "$backports"`,
    { APT_ROOT: root },
    [lib],
  );
  expect(answer.stderr).toBe('');
  expect(answer.status).toBe(0);
  const [entries = '', mirror = '', backports = ''] = answer.stdout.split('\n--\n');
  return { entries: entries.split('\n').filter(Boolean), mirror: mirror.trim(), backports: backports.trim() === 'yes', answer };
}

// Debian bookworm's own default (also node:20-bookworm-slim's): deb822 only, snapshot URLs in comments.
const debianSources = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('apt sources (scripts/lib/apt-sources.sh)', () => {
  it('classic sources.list only: one-line entries, options in brackets, deb-src and an active cdrom line skipped', () => {
    const root = aptRoot({
      'etc/apt/sources.list': [
        'deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 NETINST with firmware 20240210-11:27]/ bookworm contrib main',
        'deb http://ftp.fr.debian.org/debian/ bookworm main non-free-firmware',
        'deb-src http://ftp.fr.debian.org/debian/ bookworm main non-free-firmware',
        'deb http://security.debian.org/debian-security bookworm-security main',
        '  deb [ arch=amd64 signed-by=/usr/share/keyrings/example.gpg ] https://apt.example.com/repo stable main',
        '',
      ].join('\n'),
    });
    const { entries, mirror, backports } = read(root);
    expect(mirror).toBe('http://ftp.fr.debian.org/debian/');
    expect(backports).toBe(false);
    expect(entries).toContain('bookworm-security http://security.debian.org/debian-security');
    expect(entries).toContain('stable https://apt.example.com/repo');
    expect(entries.filter((e) => e.startsWith('bookworm '))).toHaveLength(2); // the cdrom and the mirror; no deb-src
  });

  it("deb822 only (Debian's default debian.sources): the mirror is the URIs: value, never the snapshot URL in a comment", () => {
    const root = aptRoot({ 'etc/apt/sources.list.d/debian.sources': debianSources });
    const { entries, mirror, backports } = read(root);
    expect(mirror).toBe('http://deb.debian.org/debian');
    expect(backports).toBe(false);
    expect(entries).toEqual([
      'bookworm http://deb.debian.org/debian',
      'bookworm-updates http://deb.debian.org/debian',
      'bookworm-security http://deb.debian.org/debian-security',
    ]);
    expect(entries.join('\n')).not.toContain('snapshot');
  });

  it('both layouts: sources.list, *.list and *.sources are all read; other extensions are not', () => {
    const root = aptRoot({
      'etc/apt/sources.list': 'deb http://mirror.example.org/debian bookworm main\n',
      'etc/apt/sources.list.d/debian.sources': debianSources,
      'etc/apt/sources.list.d/extra.list': 'deb https://extra.example.org/apt bookworm-extra main\n',
      'etc/apt/sources.list.d/old.list.save': 'deb http://saved.example.org/debian bookworm-backports main\n',
      'etc/apt/sources.list.d/off.sources.disabled': 'Types: deb\nURIs: http://off.example.org/debian\nSuites: bookworm-backports\n',
    });
    const { entries, mirror, backports } = read(root);
    expect(mirror).toBe('http://mirror.example.org/debian'); // the first source serving bookworm
    expect(entries).toContain('bookworm-extra https://extra.example.org/apt');
    expect(entries).toContain('bookworm-updates http://deb.debian.org/debian');
    expect(backports).toBe(false);
    expect(entries.join('\n')).not.toMatch(/saved|off\.example/);
  });

  it('a URL in a comment never counts, in either layout', () => {
    const root = aptRoot({
      'etc/apt/sources.list': [
        '# deb http://snapshot.debian.org/archive/debian/20250520T000000Z bookworm main',
        '#deb http://commented.example.org/debian bookworm-backports main',
        'deb http://ftp.de.debian.org/debian bookworm main # was http://old.example.org/debian',
        '',
      ].join('\n'),
      'etc/apt/sources.list.d/notes.sources': [
        '# Types: deb',
        '# URIs: http://comment-only.example.org/debian',
        '# Suites: bookworm-backports',
        '',
      ].join('\n'),
    });
    const { entries, mirror, backports } = read(root);
    expect(mirror).toBe('http://ftp.de.debian.org/debian');
    expect(backports).toBe(false);
    expect(entries).toEqual(['bookworm http://ftp.de.debian.org/debian']);
  });

  it('no sources at all: no entries, an empty mirror, and no failure under set -Eeuo pipefail', () => {
    for (const root of [aptRoot({}), aptRoot({ 'etc/apt/sources.list.d/.keep': '' })]) {
      const { entries, mirror, backports, answer } = read(root);
      expect(entries).toEqual([]);
      expect(mirror).toBe('');
      expect(backports).toBe(false);
      expect(answer.status).toBe(0);
    }
  });

  it('a backports stanza present: apt_has_suite bookworm-backports is true, also in the last stanza without a newline', () => {
    const stanza = 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main';
    for (const text of [`${stanza}\n`, stanza, `${debianSources}\n${stanza}`, stanza.toLowerCase().replace('types: deb', 'types: deb-src deb')]) {
      expect(read(aptRoot({ 'etc/apt/sources.list.d/backports.sources': text })).backports).toBe(true);
    }
    // One-line form too.
    expect(read(aptRoot({ 'etc/apt/sources.list': 'deb [signed-by=/k.gpg] http://deb.debian.org/debian bookworm-backports main\n' })).backports).toBe(true);
  });

  it('a disabled or deb-src-only stanza does not count (Enabled: no / false / off, any case)', () => {
    for (const extra of ['Enabled: no', 'Enabled: No  ', 'Enabled: false', 'enabled: off', 'Types: deb-src']) {
      const text = `Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\n${extra}\n`;
      expect(read(aptRoot({ 'etc/apt/sources.list.d/backports.sources': text })).backports, extra).toBe(false);
    }
    const on = 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nEnabled: yes\n';
    expect(read(aptRoot({ 'etc/apt/sources.list.d/backports.sources': on })).backports).toBe(true);
  });

  it('continuation lines and several URIs and suites in one stanza; CRLF line ends', () => {
    const text = 'Types: deb\r\nURIs: http://a.example.org/debian\r\n  http://b.example.org/debian\r\nSuites: bookworm\r\n bookworm-backports\r\nComponents: main\r\n';
    const { entries, mirror, backports } = read(aptRoot({ 'etc/apt/sources.list.d/multi.sources': text }));
    expect(mirror).toBe('http://a.example.org/debian');
    expect(backports).toBe(true);
    expect(entries).toHaveLength(4);
  });

  it('many sources after the one serving bookworm: the mirror is found and the pipeline does not fail', () => {
    const many = Array.from({ length: 3000 }, (_, i) => `Types: deb\nURIs: http://m${i}.example.org/debian\nSuites: trixie\n`).join('\n');
    const root = aptRoot({
      'etc/apt/sources.list': 'deb http://first.example.org/debian bookworm main\n',
      'etc/apt/sources.list.d/many.sources': many,
    });
    expect(read(root).mirror).toBe('http://first.example.org/debian');
  });
});

describe('scripts/setup.sh never fails silently', () => {
  it('an unknown option prints the usage and exits 2', () => {
    const r = bash('bash scripts/setup.sh --bogus');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: .*setup\.sh \[--no-test-packages\|--runtime-packages\]/);
  });

  it('a failing step names the step, the exit code, the line and the command (the ERR trap)', () => {
    // Stubs make the system packages look installed and npm unreachable, so the worker build fails.
    const dir = tempDir();
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const stub = (name: string, body: string): void => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    stub('dpkg-query', "printf 'install ok installed'");
    stub('meson', 'echo 1.5.1');
    stub('npm', 'echo "npm stub: the registry is unreachable" >&2; exit 7');
    const r = bash('bash scripts/setup.sh --no-test-packages', {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      PLENUM_CACHE_DIR: join(dir, 'cache'),
    });
    expect(r.stdout).toContain('[setup] system packages ready');
    expect(r.stderr).toMatch(/\[setup\] ERROR: step "mediasoup worker" failed \(exit 7\) at scripts\/setup\.sh line \d+: bash .*build-worker\.sh/);
    expect(r.status).toBe(7);
    expect(r.stdout).not.toContain('[setup] ready');
  });
});
