import pino, { type Logger } from 'pino';

/** JSON lines on stdout, one logger per process; components log through children of it. */
export function createLogger(level = 'info'): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
