import { WebSocket } from 'ws';

// supabase-js builds a Realtime client in every client, and Node 20 has no global WebSocket
// (Node 22 does). Server-side clients never open it; this only lets them be constructed.
if (typeof globalThis.WebSocket === 'undefined') {
	(globalThis as { WebSocket: unknown }).WebSocket = WebSocket;
}
