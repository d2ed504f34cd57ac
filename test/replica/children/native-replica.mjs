// Runs native libSQL (the `libsql` npm package) as an embedded replica of a test server,
// in a process of its own: its calls block, so it cannot share the server's event loop.
// Usage: node native-replica.mjs <db path> <sync url> <auth token or ""> '<json steps>'
// Steps: {"sync": true} | {"exec": sql} | {"all": sql}; prints one JSON line per step.
import Database from "libsql";

const [path, syncUrl, authToken, steps] = process.argv.slice(2);
const db = new Database(path, { syncUrl, authToken: authToken || undefined });
try {
  for (const step of JSON.parse(steps)) {
    if (step.sync) console.log(JSON.stringify({ sync: db.sync() }));
    else if (step.exec) {
      db.exec(step.exec);
      console.log(JSON.stringify({ exec: true }));
    } else if (step.all) {
      console.log(JSON.stringify({ rows: db.prepare(step.all).raw(true).all() }));
    }
  }
} finally {
  db.close();
}
