import type { EditPlan } from '../../ssh/ssh-config-edit.js';
import { describePlace, type SettingSource } from '../../ssh/ssh-config-source.js';

// The words of `tborg ssh-config`'s report: where a keepalive value comes from, and where tborg's
// lines go. Pure text; ssh-config-command.ts decides what to say when.

// A ServerAliveCountMax as written in the file (null: not a plain number).
export function toNumber(text: string): number | null {
  return /^\d+$/.test(text) ? Number(text) : null;
}

// Where the value in effect comes from, as the report's second and third lines say it.
export function describeSource(
  source: SettingSource | null,
  effective: number,
  parse: (t: string) => number | null,
  defaultText: string,
): string {
  if (source === null) return `not set for this host in the config files (ssh's default: ${defaultText})`;
  const where = describePlace(source);
  if (!source.certain) return `perhaps from ${where}, if that Match applies (tborg does not evaluate it)`;
  const written = parse(source.value);
  if (written !== effective) return `ssh -G shows ${effective}, not the ${source.value} at ${where}: it comes from elsewhere`;
  return `from ${where}`;
}

// Where the new lines go in the file, and why there.
export function describePlacement(plan: EditPlan): string {
  switch (plan.placement) {
    case 'own-block':
      return `into its own block (${describePlace(plan.near!)}), right after the Host line`;
    case 'new-block':
      return `as a new block before line ${plan.insertAt}, ahead of ${describePlace(plan.near!)} where ssh would otherwise read it first`;
    case 'new-block-then-host-star':
      return `as a new block before line ${plan.insertAt}, ahead of ${describePlace(plan.near!)}; a \`Host *\` after it keeps the lines below for every host`;
    case 'append':
      return 'as a new block at the end (nothing in the file gives it a keepalive now)';
  }
}
