import { TborgError } from '../errors.js';
import type { CommandContext } from '../main.js';

// Placeholder until its issue lands.
export async function runDoctorCommand(_context: CommandContext): Promise<number> {
  throw new TborgError('tborg: doctor is not implemented yet');
}
