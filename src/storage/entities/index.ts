import { Application } from './application.entity.js';
import { Chat } from './chat.entity.js';
import { Message } from './message.entity.js';

export { Application, Chat, Message };

/**
 * One definition per table (defineEntity): the TypeScript type and the ORM metadata. The tables themselves are
 * created by the migrations (src/storage/migrations/), which deployed databases have run. partition_fences
 * and command_streams have no entity: only storage's plain SQL (fences.ts, command-streams.ts) uses them.
 */
export const entities = [Application, Chat, Message];
