// A real SIP phone for tests: Debian's baresip (1.0), driven over its ctrl_tcp socket (netstring JSON).
// The microphone is a WAV file (aufile), what the phone hears is dumped to a WAV (sndfile); no audio devices.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';

export type PhoneCodec = 'opus' | 'PCMU' | 'PCMA';

export interface SipPhoneOptions {
  /** Digest credentials the phone answers challenges with. */
  authUser: string;
  authPassword: string;
  /** The caller's user part (From). */
  user?: string;
  displayName?: string;
  codec: PhoneCodec;
  /** A WAV (mono, 48 kHz, s16) played as the microphone; by default a 440 Hz tone. */
  microphoneWav?: string;
  toneHz?: number;
}

export interface PhoneCallEvent {
  type: string;
  param?: string;
  id?: string;
}

interface PhoneEvents {
  event: [event: PhoneCallEvent];
  established: [];
  closed: [reason: string];
  exit: [code: number | null];
}

const CODEC_PARAM: Record<PhoneCodec, string> = { opus: 'opus/48000/2', PCMU: 'PCMU/8000', PCMA: 'PCMA/8000' };
const SAMPLE_RATE = 48000;

export class SipPhone extends EventEmitter<PhoneEvents> {
  /** Every call event seen, in order. */
  readonly events: PhoneCallEvent[] = [];
  /** baresip's output, for failure messages. */
  output = '';
  private control: net.Socket | undefined;
  private buffer = Buffer.alloc(0);
  private nextToken = 1;
  private readonly pending = new Map<string, { resolve: (data: unknown) => void; reject: (error: Error) => void }>();
  private exited = false;

  private constructor(
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    super();
    child.stdout?.on('data', (d: Buffer) => this.log(d));
    child.stderr?.on('data', (d: Buffer) => this.log(d));
    child.on('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error('baresip exited'));
      this.pending.clear();
      this.emit('exit', code);
    });
  }

  static async start(options: SipPhoneOptions): Promise<SipPhone> {
    const dir = await mkdtemp(join(tmpdir(), 'plenum-sip-phone-'));
    const microphone = options.microphoneWav ?? join(dir, 'microphone.wav');
    if (!options.microphoneWav) await writeFile(microphone, toneWav(options.toneHz ?? 440, 30));
    const controlPort = await freePort();
    const sipPort = await freePort();
    const config = [
      'poll_method epoll',
      'net_interface 127.0.0.1',
      `sip_listen 127.0.0.1:${sipPort}`,
      'call_local_timeout 30',
      'call_max_calls 2',
      `audio_source aufile,${microphone}`,
      'audio_player aubridge,sink',
      'audio_alert aubridge,alert',
      `ausrc_srate ${SAMPLE_RATE}`,
      `auplay_srate ${SAMPLE_RATE}`,
      'ausrc_channels 1',
      'auplay_channels 1',
      'rtp_timeout 0',
      `ctrl_tcp_listen 127.0.0.1:${controlPort}`,
      `snd_path ${dir}`,
      'opus_bitrate 32000',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module opus.so',
      'module aufile.so',
      'module aubridge.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
    ];
    await writeFile(join(dir, 'config'), `${config.join('\n')}\n`);
    const user = options.user ?? 'caller';
    const display = options.displayName ? `"${options.displayName}" ` : '';
    const account =
      `${display}<sip:${user}@127.0.0.1>;auth_user=${options.authUser};auth_pass=${options.authPassword}` +
      `;audio_codecs=${CODEC_PARAM[options.codec]};regint=0;answermode=manual;ptime=20`;
    await writeFile(join(dir, 'accounts'), `${account}\n`);
    await writeFile(join(dir, 'contacts'), '');

    const child = spawn('/usr/bin/baresip', ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const phone = new SipPhone(dir, child);
    try {
      await waitFor(() => phone.exited || phone.connect(controlPort), { timeoutMs: 10_000, what: 'baresip ctrl_tcp' });
      if (phone.exited) throw new Error(`baresip exited:\n${phone.output}`);
    } catch (error) {
      await phone.stop();
      throw error;
    }
    return phone;
  }

  /** Dials a SIP URI, e.g. `sip:100@127.0.0.1:5060;transport=tcp`. */
  async dial(uri: string): Promise<void> {
    await this.command('dial', uri);
  }

  /** Sends DTMF digits as RFC 4733 telephone-events on the current call. */
  async sendDigits(digits: string): Promise<void> {
    await this.command('sndcode', digits);
  }

  async hangUp(): Promise<void> {
    await this.command('hangup');
  }

  /** The WAV of what the phone heard (decoded), once the call has carried audio. */
  async recordingPath(): Promise<string | undefined> {
    const names = await readdir(this.dir);
    const name = names.find((n) => n.startsWith('dump-') && n.endsWith('-dec.wav'));
    return name ? join(this.dir, name) : undefined;
  }

  /**
   * What the phone has heard so far, as 48 kHz mono samples (the dump is at the codec's rate: 8 kHz mono
   * for G.711, 48 kHz stereo for Opus). Readable during the call: the WAV header's sizes are only final at
   * its end, so the data chunk is read to the end of the file.
   */
  async recordedAudio(): Promise<Int16Array | undefined> {
    const path = await this.recordingPath();
    if (!path) return undefined;
    return wavTo48kMono(await readFile(path));
  }

  /** Waits for a call event of this type (already seen or to come). */
  async waitForEvent(type: string, timeoutMs = 15_000): Promise<PhoneCallEvent> {
    return waitFor(() => this.events.find((e) => e.type === type), { timeoutMs, what: `baresip ${type}` });
  }

  async stop(): Promise<void> {
    this.control?.destroy();
    if (!this.exited) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private async connect(port: number): Promise<boolean> {
    const socket = await new Promise<net.Socket | undefined>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(undefined));
    });
    if (!socket) return false;
    this.control = socket;
    socket.on('data', (chunk: Buffer) => this.onControlData(chunk));
    socket.on('error', () => undefined);
    return true;
  }

  private command(command: string, params?: string): Promise<unknown> {
    const control = this.control;
    if (!control || this.exited) return Promise.reject(new Error('baresip is not running'));
    const token = String(this.nextToken++);
    const json = Buffer.from(JSON.stringify({ command, ...(params !== undefined ? { params } : {}), token }));
    control.write(Buffer.concat([Buffer.from(`${json.length}:`), json, Buffer.from(',')]));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip: no answer to ${command}`));
      }, 10_000);
      this.pending.set(token, {
        resolve: (data) => {
          clearTimeout(timer);
          resolve(data);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  private onControlData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.buffer.toString('latin1', 0, colon));
      if (!Number.isInteger(length)) throw new Error('baresip ctrl_tcp: bad netstring');
      if (this.buffer.length < colon + 1 + length + 1) return;
      const json = this.buffer.toString('utf8', colon + 1, colon + 1 + length);
      this.buffer = this.buffer.subarray(colon + 1 + length + 1);
      this.onControlMessage(JSON.parse(json) as Record<string, unknown>);
    }
  }

  private onControlMessage(message: Record<string, unknown>): void {
    if (message.response === true) {
      const pending = this.pending.get(String(message.token));
      this.pending.delete(String(message.token));
      if (message.ok === false) pending?.reject(new Error(`baresip: ${String(message.data)}`));
      else pending?.resolve(message.data);
      return;
    }
    if (message.event !== true) return;
    const event: PhoneCallEvent = {
      type: String(message.type),
      ...(typeof message.param === 'string' ? { param: message.param } : {}),
      ...(typeof message.id === 'string' ? { id: message.id } : {}),
    };
    this.events.push(event);
    this.emit('event', event);
    if (event.type === 'CALL_ESTABLISHED') this.emit('established');
    if (event.type === 'CALL_CLOSED') this.emit('closed', event.param ?? '');
  }

  private log(data: Buffer): void {
    this.output = (this.output + data.toString()).slice(-20_000);
    if (process.env.SIP_PHONE_DEBUG) process.stderr.write(data);
  }
}

/** A 16-bit PCM WAV (any rate, any channels) as 48 kHz mono: channels averaged, linear interpolation. */
export function wavTo48kMono(wav: Buffer): Int16Array | undefined {
  if (wav.length < 44 || wav.toString('latin1', 0, 4) !== 'RIFF' || wav.readUInt16LE(34) !== 16) return undefined;
  const channels = wav.readUInt16LE(22);
  const rate = wav.readUInt32LE(24);
  const data = wav.indexOf('data', 12);
  if (data < 0 || channels < 1 || rate < 1) return undefined;
  const start = data + 8;
  const frames = Math.floor((wav.length - start) / (2 * channels));
  const mono = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += wav.readInt16LE(start + (f * channels + c) * 2);
    mono[f] = sum / channels;
  }
  const outLength = Math.floor((frames * SAMPLE_RATE) / rate);
  const out = new Int16Array(outLength);
  for (let i = 0; i < outLength; i++) {
    const t = (i * rate) / SAMPLE_RATE;
    const i0 = Math.floor(t);
    const a = mono[i0] ?? 0;
    const b = mono[i0 + 1] ?? a;
    out[i] = Math.round(a + (b - a) * (t - i0));
  }
  return out;
}

/** A mono 48 kHz s16 WAV holding a sine tone. */
export function toneWav(hz: number, seconds: number, sampleRate = SAMPLE_RATE): Buffer {
  const samples = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / sampleRate) * 12000), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}
