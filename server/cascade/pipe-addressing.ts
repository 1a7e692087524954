import type { types } from 'mediasoup';

/** Where this node's pipe transports listen and what address they give peers; SRTP unless turned off. */
export interface PipeAddressing {
  listenIp: string;
  announcedAddress?: string;
  srtp: boolean;
}

/** One side of a pipe, in this process (its SRTP parameters in clear: never sent as they are). */
export interface PipeEndpoint {
  ip: string;
  port: number;
  srtpParameters?: types.SrtpParameters;
}

export function createPipeTransport(router: types.Router, addressing: PipeAddressing, appData: Record<string, unknown>): Promise<types.PipeTransport> {
  return router.createPipeTransport({
    listenIp: { ip: addressing.listenIp, announcedIp: addressing.announcedAddress },
    enableSrtp: addressing.srtp,
    // Inter-node links are provisioned, not best effort; RTX would double the state per piped stream.
    enableRtx: false,
    appData,
  });
}

/** This side of a pipe, as the other node needs it to connect. */
export function pipeEndpoint(transport: types.PipeTransport, addressing: PipeAddressing): PipeEndpoint {
  return {
    ip: addressing.announcedAddress ?? transport.tuple.localIp,
    port: transport.tuple.localPort,
    srtpParameters: transport.srtpParameters,
  };
}
