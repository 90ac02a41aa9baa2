/** Breaks the rule: the core opens a UDP socket through node:dgram. */
import { createSocket } from "node:dgram";

export const openSocket = () => createSocket("udp4");
