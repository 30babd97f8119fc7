// The references of the gateway benchmark (perf.ts), bare `ws` servers doing the least their
// job allows. Prints its port, then serves until killed.
//   broadcast: every text message a client sends goes, unchanged, to every other open client
//              (the fan-out reference: nothing parsed, checked, kept or counted);
//   channels:  the gateway's protocol cut to the bone (the ingest reference): a welcome on
//              connect, `subscribe` joins a run's channel, and a publish goes to that channel's
//              subscribers with the channel's next `seq` appended; the run is found by a string
//              search, nothing is validated, kept or counted.
import { WebSocketServer, WebSocket } from 'ws';

const mode = process.argv[2] ?? 'broadcast';
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
const channels = new Map();
const runOf = /"run_id":"([^"]*)"/;

wss.on('connection', (ws) => {
  if (mode === 'broadcast') {
    ws.on('message', (data, isBinary) => {
      for (const c of wss.clients) if (c !== ws && c.readyState === WebSocket.OPEN) c.send(data, { binary: isBinary });
    });
    return;
  }
  ws.send('{"type":"welcome","role":"publisher","heartbeat_ms":30000,"instance":"raw"}');
  ws.on('message', (data) => {
    const text = data.toString();
    const run = runOf.exec(text)?.[1];
    if (run === undefined) return;
    let channel = channels.get(run);
    if (!channel) channels.set(run, (channel = { seq: 0, subscribers: new Set() }));
    if (text.startsWith('{"type":"subscribe"')) {
      channel.subscribers.add(ws);
      ws.once('close', () => channel.subscribers.delete(ws));
      ws.send(JSON.stringify({ type: 'subscribed', run_id: run, last_seq: channel.seq, oldest_seq: channel.seq }));
      return;
    }
    const out = `${text.slice(0, -1)},"seq":${++channel.seq}}`;
    for (const c of channel.subscribers) if (c.readyState === WebSocket.OPEN) c.send(out);
  });
});
wss.on('listening', () => process.stdout.write(`${JSON.stringify({ port: wss.address().port })}\n`));
