import type { Request } from 'autocannon';
import type { Deployment, Impl } from '../lib/deployments.js';

export interface RunOptions {
  /** Seconds of load per scenario (and per variant). */
  duration: number;
  /** Overrides every scenario's own number of connections. */
  connections?: number;
  /** Chats of the spread scenarios. */
  chats: number;
  /** Messages in the chat the read scenarios read. */
  fill: number;
  /** Chats made for the cold-chat scenario (each gets one message, in turn, while the window lasts). */
  coldChats: number;
  smoke: boolean;
}

/** Numbers acknowledged by 201s, by parent (chat number, or 'application' for chats). */
export type Acks = Record<string, number[]>;

/** What a scenario hands from its preparation (in the runner) to its load (in the load process): plain JSON. */
export type Params = { url: string; token: string } & Record<string, unknown>;

export interface Recorder {
  /** A 201 acknowledged `number` under `parent`. */
  created(parent: string | number, number: number): void;
}

export interface Scenario {
  name: string;
  title: string;
  /** One or two sentences for the README and the results file. */
  about: string;
  impls: readonly Impl[];
  /** Default connections of the load generator. */
  connections: number;
  /** Run once per variant (e.g. query lengths); the variant is passed to prepare. */
  variants?: readonly string[];
  /** What the end-of-run invariant check covers. */
  creates: 'messages' | 'chats' | null;
  /** In the runner, before the window (not measured): fixtures, warm-up. */
  prepare(dep: Deployment, opts: RunOptions, variant: string | undefined): Promise<{ params: Params; acks: Acks }>;
  /** In the load process: the autocannon requests (bodies and paths made per request by setupRequest). */
  requests(params: Params, record: Recorder): Request[];
  /** In the load process, alongside autocannon until `signal` aborts: extra measurements. */
  during?(params: Params, record: Recorder, signal: AbortSignal): Promise<Record<string, unknown>>;
}
