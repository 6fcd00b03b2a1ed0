import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { TborgError } from '../core/errors.js';

// A wrapper script named borg that runs tborg (`#!/bin/sh` / `exec tborg "$@"`) first in PATH, or in
// TBORG_BORG, looks like a real borg to tborg (only symlinks to tborg can be recognised by path), so
// tborg would start itself without end (measured: 27 node processes in 8 s). tborg therefore marks the
// environment of every borg it starts with PARENT_VARIABLE = "PID DEPTH BORGPATH". A tborg whose parent
// is that PID (the wrapper exec'd tborg: same process as the borg child), or whose parent is a shell
// started by that PID (a wrapper without `exec`), was started *as borg* by a tborg: it runs the real
// borg untouched, or stops. A tborg that a real borg runs (`borg with-lock REPO tborg ...`) has borg,
// not tborg, as its parent and is a tborg of its own. DEPTH stops any chain the rules above miss.

const PARENT_VARIABLE = 'TBORG_PARENT';
export const MAX_DEPTH = 8;

const SHELLS = /^(sh|dash|bash|zsh|ksh|ksh93|mksh|busybox|ash)$/;

// The parsed PARENT_VARIABLE.
export interface ParentMarker {
  pid: number;
  depth: number;
  borgPath: string;
}

// Pure: PARENT_VARIABLE's value, or undefined when it is not tborg's.
export function parseMarker(value: string | undefined): ParentMarker | undefined {
  const match = /^(\d+) (\d+) (.+)$/s.exec(value ?? '');
  if (!match) return undefined;
  return { pid: Number(match[1]), depth: Number(match[2]), borgPath: match[3]! };
}

// borg's environment: `env` plus the marker naming this tborg and the borg it starts.
export function markChildEnv(env: NodeJS.ProcessEnv, borgPath: string): NodeJS.ProcessEnv {
  const depth = (parseMarker(env[PARENT_VARIABLE])?.depth ?? 0) + 1;
  return { ...env, [PARENT_VARIABLE]: `${process.pid} ${depth} ${borgPath}` };
}

interface ProcessFacts {
  ppid(pid: number): number | undefined;
  exe(pid: number): string | undefined;
}

const procFacts: ProcessFacts = {
  ppid(pid) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return undefined;
    }
  },
  exe(pid) {
    try {
      return readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return undefined;
    }
  },
};

// The marker when this tborg was started as borg by the tborg it names; undefined for a tborg of its
// own. Throws when tborg is nested MAX_DEPTH deep, whatever the parents.
export function startedAsBorg(env: NodeJS.ProcessEnv, self = { pid: process.pid, ppid: process.ppid }, facts: ProcessFacts = procFacts): ParentMarker | undefined {
  const marker = parseMarker(env[PARENT_VARIABLE]);
  if (!marker) return undefined;
  if (marker.depth >= MAX_DEPTH) {
    throw new TborgError(
      `tborg was started ${marker.depth} times inside itself (last through ${marker.borgPath}); ` +
        `point TBORG_BORG or --tborg-borg at the real borg`,
    );
  }
  if (marker.pid === self.ppid) return marker;
  const exe = facts.exe(self.ppid);
  if (exe !== undefined && SHELLS.test(basename(exe)) && facts.ppid(self.ppid) === marker.pid) return marker;
  return undefined;
}

// The one line when the only borg left is the wrapper that started this tborg.
export function wrapperError(marker: ParentMarker): TborgError {
  return new TborgError(
    `${marker.borgPath} starts tborg again (a wrapper script named borg?) and no other borg is on PATH; ` +
      `point TBORG_BORG or --tborg-borg at the real borg`,
  );
}
