import { basename } from 'node:path';
import { TborgError } from '../core/errors.js';
import { readMarker, type ParentMarker } from '../process/child-marker.js';
import { readProcExe, readProcStat } from '../process/proc-stat.js';

// A wrapper script named borg that runs tborg (`#!/bin/sh` / `exec tborg "$@"`) first in PATH, or in
// TBORG_BORG, looks like a real borg to tborg (only symlinks to tborg can be recognised by path), so
// tborg would start itself without end (measured: 27 node processes in 8 s). tborg therefore marks the
// environment of every borg it starts (src/process/child-marker.ts: "PID DEPTH BORGPATH"). A tborg whose parent
// is that PID (the wrapper exec'd tborg: same process as the borg child), or whose parent is a shell
// started by that PID (a wrapper without `exec`), was started *as borg* by a tborg: it runs the real
// borg untouched, or stops. A tborg that a real borg runs (`borg with-lock REPO tborg ...`) has borg,
// not tborg, as its parent and is a tborg of its own. DEPTH stops any chain the rules above miss.

export const MAX_DEPTH = 8;

const SHELLS = /^(sh|dash|bash|zsh|ksh|ksh93|mksh|busybox|ash)$/;

interface ProcessFacts {
  ppid(pid: number): number | undefined;
  exe(pid: number): string | undefined;
}

const procFacts: ProcessFacts = {
  ppid: (pid) => readProcStat(pid)?.ppid,
  exe: readProcExe,
};

// The marker when this tborg was started as borg by the tborg it names; undefined for a tborg of its
// own. Throws when tborg is nested MAX_DEPTH deep, whatever the parents.
export function startedAsBorg(
  env: NodeJS.ProcessEnv,
  self = { pid: process.pid, ppid: process.ppid },
  facts: ProcessFacts = procFacts,
): ParentMarker | undefined {
  const marker = readMarker(env);
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
