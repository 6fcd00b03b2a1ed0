import { TborgError } from '../errors.js';
import type { CommandContext } from '../main.js';

// Placeholder until its issue lands.
export async function runAuthorizedKeysCommand(_context: CommandContext): Promise<number> {
  throw new TborgError('tborg: authorized-keys is not implemented yet');
}
