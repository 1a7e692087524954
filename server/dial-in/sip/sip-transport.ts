// SIP over UDP and TCP (RFC 3261 §18): listeners, framing, and the response routing rules of §18.2.2
// with RFC 3581 (rport). Malformed input is reported as an event; it never throws out of here.
import { EventEmitter } from 'node:events';
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../../logger.js';
import {
  getHeader,
  makeHeader,
  parseSipMessage,
  parseVia,
  serializeSipMessage,
  serializeVia,
  type SipMessage,
  type SipParseError,
  type SipParseLimits,
  type SipResponse,
} from './sip-message.js';
import { SipStreamFramer } from './sip-stream-framer.js';

export type SipTransportKind = 'udp' | 'tcp';

/** Where a message came from; for TCP, the connection it came on. */
export interface SipSource {
  readonly transport: SipTransportKind;
  readonly address: string;
  readonly port: number;
  readonly connectionId?: number;
}

export interface SipTransportOptions {
  host: string;
  /** 0 = ephemeral; undefined = no listener of that kind. */
  udpPort?: number;
  tcpPort?: number;
  limits: SipParseLimits;
  maxTcpConnections: number;
  /** A TCP connection silent this long is closed. */
  tcpIdleTimeoutMs: number;
  logger: Logger;
}

interface SipTransportEvents {
  message: [message: SipMessage, source: SipSource];
  malformed: [error: SipParseError, source: SipSource];
  close: [];
}

export class SipTransport extends EventEmitter<SipTransportEvents> {
  private readonly connections = new Map<number, net.Socket>();
  private nextConnectionId = 1;
  private closed = false;

  private constructor(
    private readonly options: SipTransportOptions,
    private readonly udp: dgram.Socket | undefined,
    private readonly tcp: net.Server | undefined,
  ) {
    super();
    udp?.on('message', (data, rinfo) => this.onDatagram(data, { transport: 'udp', address: rinfo.address, port: rinfo.port }));
    udp?.on('error', (error) => options.logger.warn({ err: error }, 'sip udp socket error'));
    tcp?.on('connection', (socket) => this.onConnection(socket));
    tcp?.on('error', (error) => options.logger.warn({ err: error }, 'sip tcp listener error'));
  }

  static async listen(options: SipTransportOptions): Promise<SipTransport> {
    let udp: dgram.Socket | undefined;
    let tcp: net.Server | undefined;
    try {
      if (options.udpPort !== undefined) {
        const socket = dgram.createSocket({ type: net.isIPv6(options.host) ? 'udp6' : 'udp4' });
        udp = socket;
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(options.udpPort, options.host, () => {
            socket.off('error', reject);
            resolve();
          });
        });
      }
      if (options.tcpPort !== undefined) {
        const server = net.createServer({ noDelay: true });
        tcp = server;
        server.maxConnections = options.maxTcpConnections;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(options.tcpPort, options.host, () => {
            server.off('error', reject);
            resolve();
          });
        });
      }
    } catch (error) {
      udp?.close();
      tcp?.close();
      throw error;
    }
    return new SipTransport(options, udp, tcp);
  }

  get udpPort(): number | undefined {
    return this.udp?.address().port;
  }

  get tcpPort(): number | undefined {
    const address = this.tcp?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  /** Sends a response where RFC 3261 §18.2.2 / RFC 3581 say: the same connection, or received/rport. */
  sendResponse(response: SipResponse, source: SipSource): void {
    const via = parseVia(getHeader(response, 'via') ?? '');
    if (!via) return;
    const address = via.params.get('received') || via.host;
    if (source.transport === 'tcp') {
      // The connection it came on; if that is gone, a new one to received + sent-by port.
      this.sendOnConnection({ ...source, address, port: via.port ?? 5060 }, serializeSipMessage(response));
      return;
    }
    const rport = Number(via.params.get('rport'));
    const port = Number.isInteger(rport) && rport > 0 ? rport : (via.port ?? 5060);
    this.sendDatagram(serializeSipMessage(response), address, port);
  }

  /** Sends a request: over UDP to the target, over TCP on the given connection (or a new one). */
  sendRequest(message: SipMessage, target: SipSource): void {
    const data = serializeSipMessage(message);
    if (target.transport === 'udp') this.sendDatagram(data, target.address, target.port);
    else this.sendOnConnection(target, data);
  }

  /** Our port on a transport, for the Contact and Via of what we send. */
  listeningPort(transport: SipTransportKind): number | undefined {
    return transport === 'udp' ? this.udpPort : this.tcpPort;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.udp?.close();
    this.tcp?.close();
    for (const socket of this.connections.values()) socket.destroy();
    this.connections.clear();
    this.emit('close');
  }

  private sendDatagram(data: Buffer, address: string, port: number): void {
    if (this.closed || !this.udp) return;
    this.udp.send(data, port, address, (error) => {
      if (error) this.options.logger.debug({ err: error, address, port }, 'sip udp send failed');
    });
  }

  private sendOnConnection(target: SipSource, data: Buffer): void {
    if (this.closed) return;
    const existing = target.connectionId !== undefined ? this.connections.get(target.connectionId) : undefined;
    if (existing && !existing.destroyed) {
      existing.write(data);
      return;
    }
    if (this.connections.size >= this.options.maxTcpConnections) return;
    // The connection is gone: open one to the target (RFC 3261 §18.2.2, last resort).
    const socket = net.connect({ host: target.address, port: target.port, noDelay: true });
    this.onConnection(socket);
    socket.write(data);
  }

  private onDatagram(data: Buffer, source: SipSource): void {
    if (this.closed) return;
    if (data.toString('latin1').trim() === '') return; // CRLF keep-alive
    this.deliver(data, source);
  }

  private onConnection(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const connectionId = this.nextConnectionId++;
    this.connections.set(connectionId, socket);
    const framer = new SipStreamFramer(this.options.limits.maxMessageBytes);
    socket.setTimeout(this.options.tcpIdleTimeoutMs, () => socket.destroy());
    socket.on('error', (error) => this.options.logger.debug({ err: error }, 'sip tcp connection error'));
    socket.on('close', () => this.connections.delete(connectionId));
    socket.on('data', (chunk: Buffer) => {
      const source: SipSource = {
        transport: 'tcp',
        address: normaliseAddress(socket.remoteAddress ?? ''),
        port: socket.remotePort ?? 0,
        connectionId,
      };
      for (const item of framer.push(chunk)) {
        if (item.kind === 'ping') socket.write('\r\n');
        else if (item.kind === 'message') this.deliver(item.data, source);
        else {
          this.emit('malformed', { code: 'TOO_LARGE', detail: item.detail }, source);
          socket.destroy();
        }
      }
    });
  }

  private deliver(data: Buffer, source: SipSource): void {
    const result = parseSipMessage(data, this.options.limits);
    if (!result.ok) {
      this.emit('malformed', result.error, source);
      return;
    }
    const message = result.message;
    if (message.kind === 'request') {
      // Record where the request really came from in its top Via (RFC 3261 §18.2.1, RFC 3581 §4).
      const index = message.headers.findIndex((h) => h.key === 'via');
      const viaHeader = message.headers[index];
      const values = viaHeader ? splitFirst(viaHeader.value) : undefined;
      const via = values ? parseVia(values.first) : undefined;
      if (!viaHeader || !values || !via) {
        this.emit('malformed', { code: 'BAD_HEADER', detail: 'Via' }, source);
        return;
      }
      const params = new Map(via.params);
      if (via.host !== source.address) params.set('received', source.address);
      if (params.has('rport')) {
        params.set('rport', String(source.port));
        params.set('received', source.address);
      }
      const top = serializeVia({ ...via, params });
      message.headers[index] = makeHeader('Via', values.rest ? `${top}, ${values.rest}` : top);
    }
    this.emit('message', message, source);
  }
}

function splitFirst(value: string): { first: string; rest: string } {
  const comma = value.indexOf(',');
  if (comma < 0) return { first: value, rest: '' };
  return { first: value.slice(0, comma).trim(), rest: value.slice(comma + 1).trim() };
}

function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
