import { findBorg, isTborg } from '../../borg/borg-binary.js';
import { readBorgVersion } from '../../borg/borg-version.js';
import type { PlanRequest } from '../../plan/plan-options.js';
import { TborgError } from '../../core/errors.js';
import type { Check } from './check.js';

// The borg check: which borg a run would start (never tborg itself) and its version.

// What doctor found out about the local borg (gatherLocalBorg), for checkLocalBorg.
export interface LocalBorgFacts {
  path: string | null;
  version: string | null;
  // Why no borg was found (findBorg's message).
  error: string | null;
  fromOption: boolean;
  // `borg` entries on PATH that are tborg itself and were skipped.
  skippedTborg: string[];
}

// The borg check: fail without a borg, warn when it printed no version.
export function checkLocalBorg(facts: LocalBorgFacts): Check {
  if (facts.path === null) {
    return { name: 'borg', status: 'fail', detail: facts.error ?? 'no borg found', data: { path: null, version: null } };
  }
  const skipped = facts.skippedTborg.length > 0 ? `; skipped ${facts.skippedTborg.join(', ')} (tborg itself)` : '';
  const from = facts.fromOption ? ' (from --tborg-borg/TBORG_BORG)' : '';
  const data = { path: facts.path, version: facts.version, skippedTborg: facts.skippedTborg };
  if (facts.version === null) {
    return { name: 'borg', status: 'warn', detail: `${facts.path}${from}: \`borg --version\` printed no version${skipped}`, data };
  }
  return { name: 'borg', status: 'ok', detail: `${facts.path} ${facts.version}${from}, not tborg${skipped}`, data };
}

// Finds borg as a run would (findBorg, skipping tborg itself on PATH) and asks its version.
export function gatherLocalBorg(context: PlanRequest): LocalBorgFacts {
  const { env } = context;
  const skippedTborg: string[] = [];
  for (const dir of (env.PATH ?? '').split(':')) {
    const candidate = `${dir === '' ? '.' : dir}/borg`;
    if (isTborg(candidate, context.selfPaths)) skippedTborg.push(candidate);
  }
  try {
    const path = findBorg(context.options.borg, env, context.selfPaths);
    const version = readBorgVersion(path, env);
    return { path, version: version?.version ?? null, error: null, fromOption: context.options.borg !== undefined, skippedTborg };
  } catch (error) {
    if (error instanceof TborgError) return { path: null, version: null, error: error.message, fromOption: false, skippedTborg };
    throw error;
  }
}
