// The reference client: Node's http with a keep-alive Agent, the same requests (POST /email with
// the body postdesk_providerbench writes, the same headers) with the same number in flight.
//   node nodeclient.mjs PORT BODY_FILE MESSAGES IN_FLIGHT TOKEN
import http from "node:http";
import { readFileSync } from "node:fs";

const [port, bodyFile, messagesText, inFlightText, token] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const messages = Number(messagesText);
const inFlight = Number(inFlightText);
const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });

let started = 0;
let done = 0;
let failed = 0;
const begin = process.hrtime.bigint();

function one() {
  if (started >= messages) return;
  started++;
  const req = http.request(
    {
      host: "127.0.0.1", port: Number(port), path: "/email", method: "POST", agent,
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Content-Length": body.length,
        "X-Postmark-Server-Token": token,
      },
    },
    (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const answer = JSON.parse(Buffer.concat(chunks).toString());
        if (res.statusCode !== 200 || answer.ErrorCode !== 0) failed++;
        finish();
      });
    });
  req.on("error", () => { failed++; finish(); });
  req.end(body);
}

function finish() {
  done++;
  if (done === messages) {
    const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
    console.log(`messages=${messages} failed=${failed} seconds=${seconds} rate=${messages / seconds}`);
    agent.destroy();
    process.exit(failed === 0 ? 0 : 1);
  }
  one();
}

for (let i = 0; i < inFlight; i++) one();
