import type { Context } from '@opentelemetry/api';
import type { SeverityNumber } from '@opentelemetry/api-logs';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';

// Keeps the winston bridge's records away from processors the service owns (session log).
export class ExcludeScopeLogRecordProcessor implements LogRecordProcessor {
  private readonly _inner: LogRecordProcessor;
  private readonly _scope: string;

  constructor(inner: LogRecordProcessor, scope: string) {
    this._inner = inner;
    this._scope = scope;
  }

  onEmit(logRecord: ReadWriteLogRecord, context?: Context): void {
    if (logRecord.instrumentationScope.name === this._scope) return;
    this._inner.onEmit(logRecord, context);
  }

  enabled(options: {
    context: Context;
    instrumentationScope: InstrumentationScope;
    severityNumber?: SeverityNumber;
    eventName?: string;
  }): boolean {
    if (options.instrumentationScope.name === this._scope) return false;
    return this._inner.enabled?.(options) ?? true;
  }

  forceFlush(): Promise<void> {
    return this._inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this._inner.shutdown();
  }
}
