import { ApplicationSchema } from './application.entity.js';
import { ChatSchema } from './chat.entity.js';
import { MessageSchema } from './message.entity.js';
import { PartitionFenceSchema } from './partition-fence.entity.js';

export { Application } from './application.entity.js';
export { Chat } from './chat.entity.js';
export { Message } from './message.entity.js';
export { PartitionFence } from './partition-fence.entity.js';

export const entities = [ApplicationSchema, ChatSchema, MessageSchema, PartitionFenceSchema];
