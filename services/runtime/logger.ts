import { logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(service: string, level: string): Logger {
  return pino({ name: service, level });
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** kafkajs logs through the service's pino logger, so one log stream carries everything. */
export function kafkaLogCreator(log: Logger): logCreator {
  const child = log.child({ component: 'kafkajs' });
  return () =>
    ({ level, log: entry }) => {
      const { message, ...rest } = entry;
      child[LEVELS[level] ?? 'info'](rest, message);
    };
}

/** kafkajs is chatty at INFO (every join, every connect): keep it to warnings unless debugging. */
export function kafkaLogLevel(level: string): KafkaLogLevel {
  return level === 'debug' || level === 'trace' ? KafkaLogLevel.INFO : KafkaLogLevel.WARN;
}
