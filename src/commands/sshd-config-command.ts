import { TborgError } from '../errors.js';
import type { CommandContext } from '../main.js';

// Placeholder until its issue lands.
export async function runSshdConfigCommand(_context: CommandContext): Promise<number> {
  throw new TborgError('tborg: sshd-config is not implemented yet');
}
