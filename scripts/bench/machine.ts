import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { MachineInfo } from './results.js';

// What the numbers were measured on. Figures are only comparable on the same machine, so the
// record carries it.

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}

function commandOutput(argv: readonly string[]): string {
  const [file, ...args] = argv;
  const r = spawnSync(file!, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return 'not found';
  return firstLine(`${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim()) || 'unknown';
}

function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const match = /^model name\s*:\s*(.+)$/m.exec(info);
    if (match) return match[1]!.trim();
  } catch {
    // Not Linux: fall back to what node knows.
  }
  return cpus()[0]?.model ?? 'unknown';
}

function osName(): string {
  try {
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (match) return match[1]!;
  } catch {
    // No os-release.
  }
  return 'unknown';
}

export function readMachineInfo(python: string): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    os: osName(),
    node: process.version,
    borg: commandOutput(['borg', '--version']),
    openssh: commandOutput(['ssh', '-V']),
    python: commandOutput([python, '--version']),
  };
}

export function load1(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM; ${m.os}, Linux ${m.kernel}; node ${m.node}, ${m.borg}, ${m.openssh.replace(/,.*$/, '')}`;
}
