import { asServerAliveOptions, type AlivePair } from '../../ssh/alive-pair.js';
import type { Plan } from '../../plan/plan.js';
import type { PlanInput } from '../../plan/plan-input.js';
import { joinRsh, parseSshArgv } from '../../ssh/rsh.js';
import { describePlace, findSettingSource, SYSTEM_CONFIG_FILE, userConfigFile } from '../../ssh/ssh-config-source.js';
import { canonicalKeyword, type KeywordDialect } from '../../ssh/ssh-config-tokens.js';
import type { Check } from './check.js';

// The keepalive check: the ServerAlive* values ssh -G gave the plan, where the user wrote them
// (file:line), and what tborg injects when they are not the user's.

// Where ServerAlive* come from, as found by findKeepaliveSources (null: nowhere: ssh's default).
export interface KeepaliveSources {
  interval: string | null;
  countMax: string | null;
  // The user's ssh config file ssh reads for these words (null: -F none), for the hint.
  configFile: string | null;
  explicitConfig: boolean;
}

// The keepalive check: ok when the user's ssh config keeps the connection alive, else a warning
// saying what tborg injects (or, with --tborg-keepalive-mode warn/off, that nothing is) and the fix.
export function checkKeepalive(plan: Plan, input: PlanInput, sources: KeepaliveSources | null): Check {
  const loc = input.commandLine.repository?.location;
  const host = loc?.host ?? '?';
  const shown = (pair: AlivePair | undefined): ReturnType<typeof asServerAliveOptions> | null => (pair ? asServerAliveOptions(pair) : null);
  const base = { state: plan.keepalive, configured: shown(plan.ssh?.configured), effective: shown(plan.ssh?.effective) };
  if (input.nonSshRsh && loc?.proto === 'ssh') {
    const words = joinRsh(input.nonSshRsh.words);
    return {
      name: 'keepalive',
      status: 'warn',
      detail: `${input.nonSshRsh.source} (${words}) is not ssh: tborg cannot check or add a keepalive; a dropped connection may hang borg`,
      data: { ...base, rsh: input.nonSshRsh.words },
    };
  }
  if (plan.ssh === null || input.ssh === null) {
    const what = loc?.proto === 'file' ? 'local repository' : `${loc?.proto ?? 'no'} repository, no ssh of borg's`;
    return { name: 'keepalive', status: 'skip', detail: `not applicable: ${what}`, data: base };
  }
  const c = plan.ssh.configured;
  const e = plan.ssh.effective;
  const giveUp = (k: AlivePair): string =>
    `ssh gives up on a silent server after (${k.countMax}+1) x ${k.interval} = ${(k.countMax + 1) * k.interval} s`;
  const data = { ...base, intervalSource: sources?.interval ?? null, countMaxSource: sources?.countMax ?? null };
  if (plan.keepalive === 'configured') {
    const interval = `ServerAliveInterval ${c.interval} from ${sources?.interval ?? 'ssh -G (source not found)'}`;
    const count = `ServerAliveCountMax ${c.countMax} ${sources?.countMax ? `from ${sources.countMax}` : "(ssh's default)"}`;
    return { name: 'keepalive', status: 'ok', detail: `${interval}, ${count}: ${giveUp(c)}; tborg adds nothing`, data };
  }
  const debian = input.ssh.intervalIsDefault
    ? ` (its ServerAliveInterval ${c.interval} is Debian's default for BatchMode yes, not a keepalive you chose)`
    : '';
  const block = input.ssh.hostBlock ? `; its Host block: ${input.ssh.hostBlock.file}:${input.ssh.hostBlock.line}` : '';
  const hint = `tborg ssh-config ${host}${sources?.explicitConfig && sources.configFile ? ` --config ${sources.configFile}` : ''} --write`;
  const none = `your ssh config sets no keepalive for ${host}${debian}${block}`;
  if (plan.keepalive === 'injected') {
    const into = plan.env.BORGSTORE_RSH !== undefined ? 'BORGSTORE_RSH' : plan.env.BORG_RSH !== undefined ? 'BORG_RSH' : '--rsh';
    const inject = [`ServerAliveInterval ${e.interval}`];
    if (e.countMax !== c.countMax) inject.push(`ServerAliveCountMax ${e.countMax}`);
    return {
      name: 'keepalive',
      status: 'warn',
      detail: `${none}; tborg injects ${inject.join(', ')} into ${into} (${giveUp(e)}); to make it yours: ${hint}`,
      data: { ...data, injectedInto: into },
    };
  }
  const mode = plan.keepalive === 'warned' ? 'warn' : 'off';
  return {
    name: 'keepalive',
    status: 'warn',
    detail: `${none}; --tborg-keepalive-mode ${mode}: nothing injected, a dropped connection can hang borg for hours; fix: ${hint}`,
    data,
  };
}

// Where ServerAliveInterval/CountMax for `alias` come from, in ssh's order: a -o in the user's
// words (command line beats every file), the user's file (or -F file), the system file (not with
// -F). ssh -G has already said what the values are; this only says where they are written.
// `home` (the password database's, as ssh's) is shown as `~` in the places.
export function findKeepaliveSources(
  words: readonly string[],
  source: string,
  alias: string,
  user: string | null,
  home: string | null,
  dialect: KeywordDialect,
): KeepaliveSources {
  const parsed = parseSshArgv(words.slice(1));
  const file = userConfigFile(words);
  const explicit = parsed.configFile !== undefined;
  const shortPath = (p: string): string => (home && p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p);
  const find = (keyword: 'ServerAliveInterval' | 'ServerAliveCountMax'): string | null => {
    const wanted = keyword.toLowerCase();
    for (const option of parsed.options) {
      const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(option);
      if (m && canonicalKeyword(m[1]!.toLowerCase(), dialect) === wanted) return `${source} (-o ${option})`;
    }
    const places = [...(file ? [{ file, system: false }] : []), ...(explicit ? [] : [{ file: SYSTEM_CONFIG_FILE, system: true }])];
    for (const place of places) {
      const found = findSettingSource(place.file, alias, keyword, { user, system: place.system, dialect });
      if (found) {
        const where = describePlace({ ...found, file: shortPath(found.file) });
        return found.certain ? where : `${where}, if that Match applies`;
      }
    }
    return null;
  };
  return { interval: find('ServerAliveInterval'), countMax: find('ServerAliveCountMax'), configFile: file, explicitConfig: explicit };
}
