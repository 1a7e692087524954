import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import type { SpeakerEntry } from '../../protocol/signaling.js';
import type { Logger } from '../logger.js';
import type { Room } from '../rooms/room.js';
import { AudioChannelRecorder, type RecordedGap, type RecorderSettings } from './audio-channel-recorder.js';
import type { GapReason, MarkData, RecordingFileRecord, RecordingRecord } from './recording-model.js';
import { recordingFileName, recordingFolder } from './recording-paths.js';
import type { RecordingStore } from './recording-store.js';
import { RecorderTap } from './recorder-tap.js';
import { monotonicMs } from './rtcp-sender-report.js';
import { VideoChannelRecorder } from './video-channel-recorder.js';

export interface SessionRecordingSettings extends RecorderSettings {
  storageDir: string;
  /** A channel whose file ended longer ago than this starts a new part instead of filling the time with silence. */
  maxFillMs: number;
  /** How often the sources each channel follows are checked (the floor, the booths). */
  followEveryMs: number;
  /** How often files' sizes and ends are written to the store. */
  persistEveryMs: number;
}

/** The floor's video channel: the camera of whoever has the floor, a part per camera. */
const FLOOR_VIDEO = 'floor-video';

interface VideoChannel {
  recorder: VideoChannelRecorder;
  tap: RecorderTap;
  following: string | undefined;
}

interface Channel {
  name: string;
  recorder: AudioChannelRecorder;
  tap: RecorderTap;
  file: RecordingFileRecord;
  /** The producer followed now. */
  following: string | undefined;
}

/**
 * A session's recording while its room is served on this node (one room incarnation): a channel recorder
 * and a tap per channel (the floor, each language), the choice of what each channel follows, and the marks
 * of the meeting index (floor turns, points of order, gaps). When the room closes here the recorders
 * finish their files; the next incarnation (after a worker died, or on the node that took the room over)
 * continues the same files, and the time between is a gap in the index.
 */
export class SessionRecording {
  private readonly channels = new Map<string, Channel>();
  private video: VideoChannel | undefined;
  /** Each sign-language channel, by language: its live signer's camera, a part per signer (docs/SIGN-LANGUAGE.md). */
  private readonly signVideos = new Map<string, VideoChannel>();
  private readonly timers: NodeJS.Timeout[] = [];
  private floorTurn: { markId: Promise<number>; personId: string } | undefined;
  private dominant: string | null = null;
  private following = false;
  private closed = false;
  private readonly pointsOfOrder = new Set<string>();
  private readonly detach: Array<() => void> = [];

  private constructor(
    readonly record: RecordingRecord,
    private readonly room: Room,
    private readonly store: RecordingStore,
    private readonly settings: SessionRecordingSettings,
    private readonly log: Logger,
  ) {}

  /**
   * Starts recording the room, or continues the recording's files (`resumed`: why they stopped, for the gap
   * marks of the time since each file's end; null for a recording that starts now).
   */
  static async open(record: RecordingRecord, room: Room, store: RecordingStore, settings: SessionRecordingSettings, log: Logger, node: string, resumed: GapReason | null): Promise<SessionRecording> {
    const recording = new SessionRecording(record, room, store, settings, log.child({ recording: record.recordingId }));
    try {
      await recording.openChannels(resumed ?? 'room-closed');
    } catch (error) {
      await recording.finish();
      throw error;
    }
    recording.watchRoom();
    await recording.mark({ kind: 'recording', action: resumed === null ? 'started' : 'continued', node });
    return recording;
  }

  /** Now on the session clock (ms since the recording started; wall clocks, so any node agrees). */
  nowMs(): number {
    return Date.now() - this.record.startedAt.getTime();
  }

  /** Writes a mark of the meeting index at now. */
  async mark(data: MarkData, endMs: number | null = null): Promise<number> {
    return this.store.addMark({ recordingId: this.record.recordingId, atMs: Math.max(0, Math.round(this.nowMs())), endMs, data });
  }

  /** Pids of the recorder processes by channel: tests kill them. */
  recorderPids(): Record<string, number | undefined> {
    return {
      ...Object.fromEntries([...this.channels.values()].map((c) => [c.name, c.recorder.pid])),
      [FLOOR_VIDEO]: this.video?.recorder.pid,
      ...Object.fromEntries([...this.signVideos].map(([language, v]) => [language, v.recorder.pid])),
    };
  }

  /** Finishes the files (every channel's end written) and closes the floor turn; the recording may go on elsewhere. */
  async finish(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const off of this.detach) off();
    const videos = [this.video, ...this.signVideos.values()].filter((v) => v !== undefined);
    for (const v of videos) v.tap.close();
    await Promise.all([
      ...[...this.channels.values()].map(async (c) => {
        c.tap.close();
        await c.recorder.close();
        await this.persist(c);
      }),
      ...videos.map((v) => v.recorder.close()),
    ]);
    const turn = this.floorTurn;
    this.floorTurn = undefined;
    if (turn) await this.store.endMark(await turn.markId, Math.round(this.nowMs()));
  }

  private async openChannels(resumed: GapReason): Promise<void> {
    const folder = recordingFolder(this.settings.storageDir, this.record.recordingId);
    await mkdir(folder, { recursive: true });
    const files = await this.store.files(this.record.recordingId);
    const originMs = monotonicMs() - this.nowMs();
    // New files all start at one instant of the session clock, whenever their processes come up.
    const now = Math.round(this.nowMs());
    for (const name of ['floor', ...this.room.interpretation.languages]) {
      const { file, endedAt } = this.choosePart(name, files, now);
      const recorder = await AudioChannelRecorder.open({ ...this.settings, channel: name, path: join(folder, file.fileName), originMs, startMs: file.startMs, log: this.log.child({ channel: name }) });
      let tap: RecorderTap;
      try {
        tap = await RecorderTap.create(this.room.media.router, 'audio', recorder, this.log);
      } catch (error) {
        await recorder.close();
        throw error;
      }
      const channel: Channel = { name, recorder, tap, file, following: undefined };
      this.channels.set(name, channel);
      // The time since the channel's file ended: silence in a continued file, or before a new part.
      if (recorder.resumedGap) void this.gap(recorder.resumedGap, resumed);
      else if (endedAt !== undefined && endedAt < file.startMs) void this.gap({ channel: name, fromMs: endedAt, toMs: file.startMs, reason: 'resumed' }, resumed);
      recorder.on('gap', (gap) => void this.gap(gap, 'recorder-exited'));
      await this.persist(channel);
    }
    this.video = await this.openVideo(folder, files, FLOOR_VIDEO);
    // A sign-language channel is a video channel like the floor's, following its live signer.
    for (const language of this.room.interpretation.signLanguages) this.signVideos.set(language, await this.openVideo(folder, files, language));
  }

  private async openVideo(folder: string, files: RecordingFileRecord[], name: string): Promise<VideoChannel> {
    const lastPart = Math.max(0, ...files.filter((f) => f.channel === name && f.kind === 'video').map((f) => f.part));
    let channel: VideoChannel | undefined;
    const recorder = new VideoChannelRecorder({
      channel: name,
      recordingId: this.record.recordingId,
      folder,
      lastPart,
      gstLaunch: this.settings.gstLaunch,
      nowMs: () => this.nowMs(),
      requestKeyFrame: () => {
        const following = channel?.following;
        if (following) void channel?.tap.requestKeyFrame(following).catch(() => undefined);
      },
      log: this.log.child({ channel: name }),
    });
    recorder.on('part', (file) => void this.store.upsertFile(file).catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'video part row not written')));
    recorder.on('gap', (gap) => void this.gap(gap, 'recorder-exited'));
    try {
      channel = { recorder, tap: await RecorderTap.create(this.room.media.router, 'video', recorder, this.log), following: undefined };
      return channel;
    } catch (error) {
      await recorder.close();
      throw error;
    }
  }

  /**
   * The channel's latest part, or a new one when there is none or it ended too long ago to fill with
   * silence (`endedAt`: where the previous part ended, for the gap mark).
   */
  private choosePart(name: string, files: RecordingFileRecord[], now: number): { file: RecordingFileRecord; endedAt?: number } {
    const latest = files.filter((f) => f.channel === name && f.kind === 'audio').sort((a, b) => b.part - a.part)[0];
    const endedAt = latest ? (latest.endMs ?? latest.startMs) : undefined;
    if (latest && now - endedAt! <= this.settings.maxFillMs) return { file: latest };
    const part = (latest?.part ?? 0) + 1;
    return { file: { recordingId: this.record.recordingId, channel: name, part, kind: 'audio', fileName: recordingFileName(name, part, 'audio/ogg'), mediaType: 'audio/ogg', startMs: now, endMs: null, bytes: 0 }, endedAt };
  }

  private async gap(gap: RecordedGap, reason: GapReason): Promise<void> {
    try {
      await this.store.addMark({ recordingId: this.record.recordingId, atMs: Math.round(gap.fromMs), endMs: Math.round(gap.toMs), data: { kind: 'gap', channel: gap.channel, reason } });
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'gap mark not written');
    }
  }

  private watchRoom(): void {
    const onDominant = ({ peerId }: { peerId: string }): void => {
      this.dominant = peerId;
    };
    const onFloor = (state: { queue: SpeakerEntry[] }): void => this.notePointsOfOrder(state.queue);
    this.room.on('activespeaker', onDominant);
    this.room.floor.on('changed', onFloor);
    this.detach.push(() => this.room.off('activespeaker', onDominant), () => this.room.floor.off('changed', onFloor));
    this.timers.push(setInterval(() => void this.follow(), this.settings.followEveryMs));
    this.timers.push(setInterval(() => void Promise.all([...this.channels.values()].map((c) => this.persist(c))), this.settings.persistEveryMs));
    for (const t of this.timers) t.unref();
    void this.follow();
  }

  /** Who the floor is now: the floor holder, else the active speaker, else the latest dominant voice. */
  private floorPerson(): string | null {
    const present = (id: string | null | undefined): string | null => (id && this.room.participants.has(id) ? id : null);
    return present(this.room.floor.speakerId) ?? present(this.room.activeSpeaker) ?? present(this.dominant);
  }

  /** A person's floor microphone, or their camera. */
  private producerOf(personId: string | null, kind: 'audio' | 'video'): types.Producer | undefined {
    const p = personId ? this.room.participants.get(personId) : undefined;
    if (!p) return undefined;
    for (const producer of p.endpoint.producers.values()) {
      if (producer.closed || producer.kind !== kind) continue;
      // A signer's camera (a sign-language channel's) is not a floor camera.
      if (kind === 'audio' ? producer.appData.channel === 'floor' : producer.appData.source === 'camera' && (producer.appData.channel ?? 'floor') === 'floor') return producer;
    }
    return undefined;
  }

  /** Points each channel at its source: the floor's voice, or a booth's live interpreter (the floor when the booth is silent). */
  private async follow(): Promise<void> {
    if (this.following || this.closed) return;
    this.following = true;
    try {
      const person = this.floorPerson();
      await this.noteFloorTurn(person);
      const floor = this.producerOf(person, 'audio');
      if (this.video) await this.switchTo(this.video, this.producerOf(person, 'video'));
      for (const [language, video] of this.signVideos) await this.switchTo(video, this.room.interpretation.signVideo(language));
      for (const channel of this.channels.values()) {
        const booth = channel.name === 'floor' ? undefined : this.room.interpretation.booths.get(channel.name);
        const interpreter = booth?.liveProducer;
        await this.switchTo(channel, interpreter && !interpreter.closed ? interpreter : floor);
      }
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'recording source not followed');
    } finally {
      this.following = false;
    }
  }

  /**
   * Points a channel (audio or video) at another producer: consumed by its tap first, then followed, then
   * the previous one released, so the recorder never waits on a source nobody sends.
   */
  private async switchTo(channel: Channel | VideoChannel, producer: types.Producer | undefined): Promise<void> {
    if (producer?.id === channel.following) return;
    const previous = channel.following;
    channel.following = producer?.id;
    let ssrc: number | undefined;
    if (producer) {
      await this.room.media.ensureProducerOn(producer, this.room.media.router);
      ssrc = await channel.tap.consume(producer);
    }
    if (channel.following !== producer?.id) return; // overtaken by a later switch
    channel.recorder.follow(ssrc);
    if (previous) channel.tap.release(previous);
  }

  private async noteFloorTurn(person: string | null): Promise<void> {
    if (person === (this.floorTurn?.personId ?? null)) return;
    const now = Math.round(this.nowMs());
    const previous = this.floorTurn;
    this.floorTurn = undefined;
    if (previous) await this.store.endMark(await previous.markId, now);
    const p = person ? this.room.participants.get(person) : undefined;
    if (!p || !person) return;
    const { name, entity } = p.grants;
    const markId = this.mark({ kind: 'floor', personId: person, name, entity: entity.name, entityType: entity.type });
    this.floorTurn = { markId, personId: person };
    await markId;
  }

  /** A point of order raised (put on the list) is an instant in the index. */
  private notePointsOfOrder(queue: SpeakerEntry[]): void {
    for (const entry of queue) {
      const key = `${entry.id}:${entry.requestedAt}`;
      if (entry.kind !== 'point_of_order' || this.pointsOfOrder.has(key)) continue;
      this.pointsOfOrder.add(key);
      void this.mark({ kind: 'point-of-order', personId: entry.id, name: entry.name, entity: entry.entity }).catch(() => undefined);
    }
  }

  private async persist(channel: Channel): Promise<void> {
    channel.file = { ...channel.file, endMs: Math.round(channel.recorder.endMs), bytes: channel.recorder.bytes };
    try {
      await this.store.upsertFile(channel.file);
    } catch (error) {
      this.log.warn({ err: (error as Error).message, channel: channel.name }, 'recording file row not written');
    }
  }
}
