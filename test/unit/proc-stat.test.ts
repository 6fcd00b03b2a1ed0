import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcStat } from '../../src/process/proc-stat.js';

// proc(5): "pid (comm) state ppid pgrp session tty_nr tpgid ...". comm is the program's name as the
// kernel keeps it, and a program may name itself anything: spaces and parentheses included.
test('parseProcStat: the fields after the last parenthesis, whatever comm holds', () => {
  const rows: Array<[string, Record<string, number | string>]> = [
    [
      '4242 (node) S 4200 4242 4100 34816 4242 4194560 10 0 2 0 31 7 0 0',
      { state: 'S', ppid: 4200, pgrp: 4242, session: 4100, ttyNr: 34816, tpgid: 4242, utime: 31, stime: 7 },
    ],
    [
      '17 (borg (x) y) R 1 17 17 0 -1 0 0 0 0 0 5 1 0 0',
      { state: 'R', ppid: 1, pgrp: 17, session: 17, ttyNr: 0, tpgid: -1, utime: 5, stime: 1 },
    ],
    ['9 (a) b) Z 3 9 9 0 -1 0 0 0 0 0 0 0 0 0', { state: 'Z', ppid: 3, pgrp: 9, session: 9, ttyNr: 0, tpgid: -1, utime: 0, stime: 0 }],
  ];
  for (const [text, expected] of rows) assert.deepEqual(parseProcStat(text), expected, text);
});
