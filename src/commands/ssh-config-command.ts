import { TborgError } from '../errors.js';
import type { CommandContext } from '../main.js';

// Placeholder until its issue lands.
export async function runSshConfigCommand(_context: CommandContext): Promise<number> {
  throw new TborgError('tborg: ssh-config is not implemented yet');
}
