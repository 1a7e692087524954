import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

export interface CrmRegistrant {
  event_id: string;
  registrant_id: number | string;
  full_name: string;
  email: string;
  personal_data: { affiliation: string; country?: string };
  tags: string[];
  state: string;
  custom_fields?: { interpretation_pairs?: string; sessions?: string[] };
}

/** The CRM test server (test/helpers/crm-server.mjs) as a real separate process on a free port. */
export class CrmProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<CrmProcess> {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'crm-server.mjs')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`CRM exited with ${code}`)));
      createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    });
    return new CrmProcess(child, `http://127.0.0.1:${port}`);
  }

  async control(body: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${this.url}/__control`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`CRM control: ${res.status}`);
  }

  async stats(): Promise<{ calls: number; peakConcurrent: number; tokenRequests: number }> {
    return (await fetch(`${this.url}/__control/stats`)).json() as Promise<{ calls: number; peakConcurrent: number; tokenRequests: number }>;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

export function registrant(n: number, overrides: Partial<CrmRegistrant> = {}): CrmRegistrant {
  return {
    event_id: 'crm-event',
    registrant_id: n,
    full_name: `Delegate ${n}`,
    email: `delegate${n}@example.org`,
    personal_data: { affiliation: 'Kenya', country: 'ke' },
    tags: ['Member State', 'Delegate'],
    state: 'complete',
    ...overrides,
  };
}
