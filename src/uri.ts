import { LibsqlError } from "./errors.js";

/** A URL split per RFC 3986, the way `@libsql/client` parses it (so relative `file:` URLs work). */
export interface Uri {
  scheme: string;
  authority: Authority | undefined;
  path: string;
  query: Array<{ key: string; value: string }> | undefined;
  fragment: string | undefined;
}

/** The `//user:password@host:port` part. */
export interface Authority {
  host: string;
  port: number | undefined;
  userinfo: { username: string; password: string | undefined } | undefined;
}

const URI_RE =
  /^(?<scheme>[A-Za-z][A-Za-z.+-]*):(\/\/(?<authority>[^/?#]*))?(?<path>[^?#]*)(\?(?<query>[^#]*))?(#(?<fragment>.*))?$/su;
const AUTHORITY_RE =
  /^((?<username>[^:]*)(:(?<password>.*))?@)?((?<host>[^:[\]]*)|(\[(?<host_br>[^[\]]*)\]))(:(?<port>[0-9]*))?$/su;

/** Parses `text`; `URL_INVALID` when it is not a URL. */
export function parseUri(text: string): Uri {
  const match = URI_RE.exec(text);
  if (!match?.groups) {
    // The URL may carry ?authToken=…: never echo it.
    const shown = text.replace(/authToken=[^&#]*/g, "authToken=<redacted>");
    throw new LibsqlError(`The URL '${shown}' is not in a valid format`, "URL_INVALID");
  }
  const g = match.groups;
  return {
    scheme: g.scheme as string,
    authority: g.authority !== undefined ? parseAuthority(g.authority) : undefined,
    path: percentDecode(g.path as string),
    query: g.query !== undefined ? parseQuery(g.query) : undefined,
    fragment: g.fragment !== undefined ? percentDecode(g.fragment) : undefined,
  };
}

function parseAuthority(text: string): Authority {
  const match = AUTHORITY_RE.exec(text);
  if (!match?.groups) {
    throw new LibsqlError("The authority part of the URL is not in a valid format", "URL_INVALID");
  }
  const g = match.groups;
  return {
    host: percentDecode((g.host_br ?? g.host) as string),
    port: g.port ? Number.parseInt(g.port, 10) : undefined,
    userinfo:
      g.username !== undefined
        ? {
            username: percentDecode(g.username),
            password: g.password !== undefined ? percentDecode(g.password) : undefined,
          }
        : undefined,
  };
}

function parseQuery(text: string): Array<{ key: string; value: string }> {
  const pairs: Array<{ key: string; value: string }> = [];
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.substring(0, eq);
    const value = eq < 0 ? "" : part.substring(eq + 1);
    pairs.push({ key: percentDecode(key.replaceAll("+", " ")), value: percentDecode(value.replaceAll("+", " ")) });
  }
  return pairs;
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    throw new LibsqlError(
      `URL component has invalid percent encoding: ${error}`,
      "URL_INVALID",
      undefined,
      undefined,
      error,
    );
  }
}

/** The base URL of a remote database: scheme, authority and percent-encoded path. */
export function encodeBaseUrl(scheme: string, authority: Authority | undefined, path: string): URL {
  if (authority === undefined) {
    throw new LibsqlError(
      `URL with scheme ${JSON.stringify(`${scheme}:`)} requires authority (the "//" part)`,
      "URL_INVALID",
    );
  }
  const host = authority.host.includes(":") ? `[${encodeURI(authority.host)}]` : encodeURI(authority.host);
  const port = authority.port !== undefined ? `:${authority.port}` : "";
  const user = authority.userinfo
    ? `${encodeURIComponent(authority.userinfo.username)}${
        authority.userinfo.password !== undefined ? `:${encodeURIComponent(authority.userinfo.password)}` : ""
      }@`
    : "";
  let pathText = path.split("/").map(encodeURIComponent).join("/");
  if (pathText !== "" && !pathText.startsWith("/")) pathText = `/${pathText}`;
  return new URL(`${scheme}://${user}${host}${port}${pathText}`);
}
