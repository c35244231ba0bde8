// `npm run up`'s terminal: each service's JSON log lines (pino) shown human-readable through
// pino-pretty, one service per prefix. The services themselves keep writing JSON; lines that
// are not a JSON log object (nats-server, stack traces) pass through unchanged.
import { prettyFactory } from 'pino-pretty';

const pretty = prettyFactory({
  colorize: Boolean(process.stdout.isTTY),
  translateTime: 'SYS:HH:MM:ss.l',
  // The service is the line's prefix; the request id leads the message when there is one.
  ignore: 'pid,hostname,service,reqId,context',
  messageFormat: '{if reqId}[{reqId}] {end}{if context}{context}: {end}{msg}',
  singleLine: true,
});

/** One output line (without newline) for one input line. */
export function formatLine(line) {
  if (!line.startsWith('{')) return line;
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null || entry.level === undefined) return line;
  return pretty(entry).replace(/\n$/, '');
}
