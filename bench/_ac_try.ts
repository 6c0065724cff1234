import autocannon from "autocannon";
let n = 0;
const r = await autocannon({ url: "http://127.0.0.1:18555", connections: 10, duration: 5,
  requests: [{ method: "POST", path: "/events", headers: { "content-type": "application/json" },
    setupRequest: (req: any) => ({ ...req, body: `{"id":"e${n++}"}` }) }] });
console.log(r.requests.average, r.latency.p50, r.latency.p99, r.non2xx, r.errors);
