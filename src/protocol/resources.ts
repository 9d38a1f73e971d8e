/** The JSON resources of the external contract (docs/API.md). Internal ids never appear here. */

export interface ApplicationResource {
  token: string;
  name: string;
  chats_count: number;
  created_at: string;
  updated_at: string;
}

export interface ChatResource {
  number: number;
  name: string | null;
  messages_count: number;
  created_at: string;
  updated_at: string;
}

export interface MessageResource {
  number: number;
  body: string;
  created_at: string;
  updated_at: string;
}
