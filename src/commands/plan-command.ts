import { TborgError } from '../errors.js';
import type { CommandContext } from '../main.js';

// Placeholder until its issue lands.
export async function runPlanCommand(_context: CommandContext): Promise<number> {
  throw new TborgError('tborg: plan is not implemented yet');
}
