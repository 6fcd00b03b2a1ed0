import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  checkHolders,
  lastingLockHolders,
  parseExclusiveName,
  parseRoster,
  readLockHolders,
  type LockHolder,
} from '../../src/guide/doctor/lock-holders.js';

// borg's lock files as doctor reads them: who holds a lock, and whether it lasts.

describe('lock files', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tborg-doctor-locks-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('names and rosters as borg writes them', () => {
    assert.deepEqual(parseExclusiveName('host.example.org@1234567.4242-0'), {
      host: 'host.example.org@1234567',
      pid: 4242,
      kind: 'exclusive',
    });
    assert.equal(parseExclusiveName('junk'), null);
    assert.deepEqual(parseRoster('{"shared": [["h@1", 7, 0]], "exclusive": []}'), [{ host: 'h@1', pid: 7, kind: 'shared' }]);
    assert.deepEqual(parseRoster('{not json'), []);
    assert.deepEqual(parseRoster('[]'), []);
  });

  test('read from a directory: the exclusive holder once, then shared ones', async () => {
    const lockDir = join(dir, 'cache-id');
    await mkdir(join(lockDir, 'lock.exclusive'), { recursive: true });
    await writeFile(join(lockDir, 'lock.exclusive', 'h@1.99-0'), '');
    await writeFile(join(lockDir, 'lock.roster'), JSON.stringify({ exclusive: [['h@1', 99, 0]], shared: [['g@2', 5, 0]] }));
    assert.deepEqual(readLockHolders(lockDir), [
      { host: 'h@1', pid: 99, kind: 'exclusive' },
      { host: 'g@2', pid: 5, kind: 'shared' },
    ]);
    assert.deepEqual(readLockHolders(join(dir, 'none')), []);
  });

  test("only holders still there after a pause count: another borg's moment on the lock is not a lock", async () => {
    const a: LockHolder = { host: 'h@1', pid: 10, kind: 'exclusive' };
    const b: LockHolder = { host: 'h@1', pid: 11, kind: 'shared' };
    const c: LockHolder = { host: 'h@1', pid: 12, kind: 'exclusive' };
    const reads = (...answers: LockHolder[][]) => {
      const log: string[] = [];
      let i = 0;
      return {
        log,
        read: (d: string) => {
          log.push(`read ${d}`);
          return answers[i++] ?? [];
        },
        sleep: async (ms: number) => {
          log.push(`sleep ${ms}`);
        },
      };
    };
    // Nobody: one read, no pause.
    let r = reads([]);
    assert.deepEqual(await lastingLockHolders('/c', 1500, r.read, r.sleep), []);
    assert.deepEqual(r.log, ['read /c']);
    // A borg list's moment on the cache lock (a), gone by the second read; b stays; c came later.
    r = reads([a, b], [b, c]);
    assert.deepEqual(await lastingLockHolders('/c', 1500, r.read, r.sleep), [b]);
    assert.deepEqual(r.log, ['read /c', 'sleep 1500', 'read /c']);
    // The same pid in another role is another holder.
    r = reads([a], [{ ...a, kind: 'shared' }]);
    assert.deepEqual(await lastingLockHolders('/c', 10, r.read, r.sleep), []);
    // Real files and the real pause: a lock directory that stays is reported.
    const lockDir = join(dir, 'lasting');
    await mkdir(join(lockDir, 'lock.exclusive'), { recursive: true });
    await writeFile(join(lockDir, 'lock.exclusive', 'h@1.99-0'), '');
    assert.deepEqual(await lastingLockHolders(lockDir, 20), [{ host: 'h@1', pid: 99, kind: 'exclusive' }]);
  });

  test('a holder makes the lock check a warning', () => {
    assert.equal(
      checkHolders('cache', '/c/lock.exclusive', [], () => null),
      null,
    );
    const check = checkHolders('cache', '/c/id/lock.exclusive', [{ host: 'box.lan@1', pid: 42, kind: 'exclusive' }], () => true)!;
    assert.equal(check.status, 'warn');
    assert.equal(
      check.detail,
      'locked now (cache lock /c/id/lock.exclusive: exclusive lock of pid 42 on box.lan, running): another borg on this machine uses its cache of this repository',
    );
    const stale = checkHolders('repository', '/r/lock.roster', [{ host: 'box@1', pid: 42, kind: 'shared' }], () => false)!;
    assert.match(stale.detail, /gone: stale, borg removes it itself\): a reader/);
  });
});
