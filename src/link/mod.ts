/** Links to other processes: packets on XML streams, the queue while a peer is away, the stream. */
export { bounceOf, LinkQueue, type LinkQueueOptions } from "./queue.ts";
export {
  type BytePipe,
  type StreamEnd,
  StreamLink,
  type StreamLinkEvents,
  type StreamLinkOptions,
} from "./stream_link.ts";
export {
  decodePacket,
  encodePacket,
  HOPS_ATTR,
  linkHeaderAttrs,
  NS_LINK,
  NS_NODE_LINK,
} from "./wire.ts";
export { handshakeDigest, handshakeMatches, newStreamId } from "./handshake.ts";
export { Outbox, type OutboxOptions, type StreamAcks } from "./outbox.ts";
export {
  ackElement,
  ackHandshake,
  advertiseAcksAttrs,
  advertisesAcks,
  readAck,
  readHandshakeAcks,
  type Receipt,
  Receiver,
} from "./acks.ts";
