/**
 * The demo page: a SQL console on `opfs:demo.db` (libsql-web's engine in a
 * worker, persisted in OPFS), the same console against the remote database
 * `npm start` runs beside the page, and the database file's operations.
 * It uses libsql-web as an application would (here from source: apps import
 * from "libsql-web").
 */
import { mountDatabaseFiles } from "./database-files.js";
import { EXAMPLES } from "./examples.js";
import { showOutcome, showRunning } from "./result-view.js";
import { runSql } from "./run-sql.js";
import { Target } from "./target.js";

const LOCAL_URL = "opfs:demo.db";
const remoteUrl = import.meta.env.VITE_LIBSQL_REMOTE_URL;

const local = new Target(LOCAL_URL, { url: LOCAL_URL });
const remote = remoteUrl ? new Target(`remote ${remoteUrl}`, { url: remoteUrl }) : undefined;

const sql = document.getElementById("sql") as HTMLTextAreaElement;
(document.getElementById("database-url") as HTMLElement).textContent = LOCAL_URL;

let running = false;
async function run(target: Target): Promise<void> {
  if (running) return;
  running = true;
  showRunning(target.label);
  try {
    showOutcome(target.label, await runSql(target.client(), sql.value));
  } finally {
    running = false;
  }
}

const examples = document.getElementById("examples") as HTMLElement;
for (const example of EXAMPLES) {
  const button = examples.appendChild(document.createElement("button"));
  button.type = "button";
  button.textContent = example.label;
  button.addEventListener("click", () => {
    sql.value = example.sql;
    sql.focus();
  });
}

document.getElementById("run-local")?.addEventListener("click", () => run(local));
sql.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    void run(local);
  }
});

if (remote && remoteUrl) {
  (document.getElementById("remote") as HTMLElement).hidden = false;
  (document.getElementById("remote-url") as HTMLElement).textContent = remoteUrl;
  document.getElementById("run-remote")?.addEventListener("click", () => run(remote));
}

mountDatabaseFiles(local);
sql.value = EXAMPLES[0]?.sql ?? "";
