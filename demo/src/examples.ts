/** A query offered as a starting point. */
export interface Example {
  label: string;
  sql: string;
}

/** The example queries, in the order the page lists them. */
export const EXAMPLES: Example[] = [
  {
    label: "Create notes",
    sql: `CREATE TABLE IF NOT EXISTS notes(
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  body TEXT,
  created_at TEXT DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO notes(title, body) VALUES
  ('Shopping', 'Milk, eggs, bread'),
  ('Ideas', 'A SQL console in the browser'),
  ('Reading', 'SQLite file format');`,
  },
  { label: "List notes", sql: "SELECT id, title, body, created_at FROM notes ORDER BY id;" },
  {
    label: "Create vectors",
    sql: `CREATE TABLE IF NOT EXISTS docs(
  id INTEGER PRIMARY KEY,
  title TEXT,
  embedding F32_BLOB(4)
);
INSERT INTO docs(title, embedding) VALUES
  ('Cats and dogs', vector32('[0.9, 0.1, 0.0, 0.2]')),
  ('Kittens', vector32('[0.8, 0.2, 0.1, 0.1]')),
  ('Car engines', vector32('[0.0, 0.9, 0.8, 0.1]')),
  ('Electric cars', vector32('[0.1, 0.8, 0.9, 0.0]'));`,
  },
  {
    label: "Vector search",
    sql: `SELECT title,
  round(vector_distance_cos(embedding, vector32('[1, 0.1, 0, 0.1]')), 4) AS distance
FROM docs
ORDER BY distance
LIMIT 3;`,
  },
  { label: "Tables", sql: "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name;" },
  { label: "Version", sql: "SELECT sqlite_version() AS sqlite, vector_extract(vector32('[1, 2, 3]')) AS vector;" },
  { label: "An error", sql: "SELECT * FROM no_such_table;" },
];
