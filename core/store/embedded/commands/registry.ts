/**
 * Every command the embedded server answers, by name.
 */
import { adminCommands } from './admin.ts';
import type { CommandTable } from './context.ts';
import { ddlCommands } from './ddl.ts';
import { readCommands } from './read.ts';
import { writeCommands } from './write.ts';

export const COMMANDS: CommandTable = { ...adminCommands, ...ddlCommands, ...readCommands, ...writeCommands };
