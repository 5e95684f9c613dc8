/**
 * docs/telemetry.md's OpenTelemetry example, run: Corral's
 * `corral:connection` channel turned into one span per connection (active
 * inside the protocol, so spans made there are its children) and into
 * metrics, exported in memory with the SDK. The ```ts blocks of the guide
 * are in this file verbatim (imports aside: the guide imports "corral"); a
 * case below checks that they match.
 */
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import diagnostics from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import {
  type Context,
  context,
  type ContextManager,
  type Meter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { type ConnectionTraceContext, handler, listen, type Protocol, tcp, telemetryChannels } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { RecordingLogger } from "./_fixtures.ts";

// ---- docs/telemetry.md: every block below is shown there, imports aside ----

/** OpenTelemetry's context, kept in the store Corral's channel enters for each connection. */
class StoreContextManager implements ContextManager {
  readonly store: AsyncLocalStorage<Context>;
  constructor(store: AsyncLocalStorage<Context>) {
    this.store = store;
  }
  active(): Context {
    return this.store.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.store.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== "function") return target;
    const run = (...args: unknown[]) => this.with(ctx, target as (...args: unknown[]) => unknown, undefined, ...args);
    return run as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.store.disable();
    return this;
  }
}

/**
 * One span per connection, the active span inside its protocol, and
 * metrics: bytes received and sent, connections open. Returns the function
 * that stops it.
 */
function instrumentCorral(tracer: Tracer, meter: Meter, store: AsyncLocalStorage<Context>): () => void {
  const connections = diagnostics.tracingChannel<Context, ConnectionTraceContext>(telemetryChannels.connection);
  const spans = new WeakMap<ConnectionTraceContext, Span>();
  const received = meter.createCounter("corral.connection.bytes_received", { unit: "By" });
  const sent = meter.createCounter("corral.connection.bytes_sent", { unit: "By" });
  const open = meter.createUpDownCounter("corral.connection.open");
  // `start` runs the protocol inside the store: the span made here is active in it.
  connections.start.bindStore(store, (conn) => {
    const parent = store.getStore() ?? ROOT_CONTEXT;
    const span = tracer.startSpan("corral.connection", {
      kind: SpanKind.SERVER,
      attributes: {
        "corral.listener": conn.ref,
        "corral.connection.id": conn.id,
        "network.transport": conn.transport,
        "network.peer.address": conn.remoteAddress,
        "network.peer.port": conn.remotePort,
        "network.local.address": conn.localAddress,
        "network.local.port": conn.localPort,
      },
    }, parent);
    spans.set(conn, span);
    open.add(1, { "corral.listener": conn.ref });
    return trace.setSpan(parent, span);
  });
  const handlers = {
    start() {},
    end() {},
    asyncStart() {},
    error(conn: ConnectionTraceContext) {
      spans.get(conn)?.recordException(conn.error instanceof Error ? conn.error : String(conn.error));
    },
    // The connection is over: its context now has the byte counts and the reason.
    asyncEnd(conn: ConnectionTraceContext) {
      const span = spans.get(conn);
      if (span === undefined) return; // it began before instrumentCorral() was called
      span.setAttributes({
        "corral.bytes_received": conn.bytesReceived,
        "corral.bytes_sent": conn.bytesSent,
        "corral.end_reason": conn.reason,
      });
      if (conn.reason !== "normal") span.setStatus({ code: SpanStatusCode.ERROR, message: conn.reason });
      span.end();
      const attributes = { "corral.listener": conn.ref };
      received.add(conn.bytesReceived ?? 0, attributes);
      sent.add(conn.bytesSent ?? 0, attributes);
      open.add(-1, attributes);
    },
  };
  connections.subscribe(handlers);
  return () => {
    connections.unsubscribe(handlers);
    connections.start.unbindStore(store);
  };
}

/** An echo whose every reply is a span of its own: a child of the connection's span. */
const tracedEcho: Protocol = async (conn) => {
  const socket = await conn.handshake();
  const tracer = trace.getTracer("echo");
  for await (const chunk of socket) {
    await tracer.startActiveSpan("echo.reply", async (span) => {
      await socket.send(chunk);
      span.end();
    });
  }
};

/** OpenTelemetry with the SDK's in-memory exporters (a service would export over OTLP), and Corral instrumented. */
function startOpenTelemetry() {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const metricReader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
  const meterProvider = new MeterProvider({ readers: [metricReader] });
  const store = new AsyncLocalStorage<Context>();
  context.setGlobalContextManager(new StoreContextManager(store));
  trace.setGlobalTracerProvider(tracerProvider);
  const stopCorral = instrumentCorral(tracerProvider.getTracer("corral"), meterProvider.getMeter("corral"), store);
  return {
    spanExporter,
    metricExporter,
    metricReader,
    async shutdown() {
      stopCorral();
      context.disable();
      trace.disable();
      await Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]);
    },
  };
}

test("guide: one span per connection, with byte counts, and child spans inside the protocol", async () => {
  const otel = startOpenTelemetry();
  const listener = await listen({ ref: "otel-echo", transport: tcp({ host: "127.0.0.1" }), protocol: tracedEcho });
  for (const message of ["hello", "opentelemetry"]) {
    const client = await tcp().connect({ host: "127.0.0.1", port: listener.port! });
    await client.send(message);
    assert.equal(new TextDecoder().decode((await client.recv(message.length, { timeout: 5000 }))!), message);
    await client.close();
  }
  await listener.waitForConnections("==", 0, { timeout: 5000 });
  await listener.stop();

  const spans = otel.spanExporter.getFinishedSpans();
  const connections = spans.filter((span) => span.name === "corral.connection");
  assert.deepEqual(connections.map((span) => span.attributes["corral.bytes_received"]), [5, 13]);
  assert.deepEqual(connections.map((span) => span.attributes["corral.bytes_sent"]), [5, 13]);
  for (const span of connections) {
    assert.equal(span.attributes["corral.end_reason"], "normal");
    assert.equal(span.attributes["network.peer.address"], "127.0.0.1");
    assert.equal(span.attributes["network.local.port"], listener.port);
    const replies = spans.filter((child) => child.parentSpanContext?.spanId === span.spanContext().spanId);
    assert.deepEqual(replies.map((child) => child.name), ["echo.reply"]);
  }

  await otel.metricReader.forceFlush();
  const metrics = otel.metricExporter.getMetrics().at(-1)!.scopeMetrics[0]!.metrics;
  const total = (name: string) => metrics.find((metric) => metric.descriptor.name === name)?.dataPoints[0]?.value;
  assert.equal(total("corral.connection.bytes_received"), 18);
  assert.equal(total("corral.connection.bytes_sent"), 18);
  assert.equal(total("corral.connection.open"), 0);
  await otel.shutdown();
});

// ---- the blocks end here ----

suite("opentelemetry", () => {
  test("a handler() protocol's callbacks run inside its connection's span", async () => {
    const spanExporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
    const meterProvider = new MeterProvider();
    const store = new AsyncLocalStorage<Context>();
    context.setGlobalContextManager(new StoreContextManager(store));
    const stop = instrumentCorral(tracerProvider.getTracer("corral"), meterProvider.getMeter("corral"), store);
    const seen: (string | undefined)[] = [];
    const spanId = () => trace.getActiveSpan()?.spanContext().spanId;
    const echo = handler({
      data(chunk, socket) {
        seen.push(spanId());
        socket.send(chunk);
      },
      close: () => void seen.push(spanId()),
    });
    try {
      await using listener = await listen({
        transport: tcp({ host: "127.0.0.1" }),
        protocol: echo,
        logger: new RecordingLogger(),
      });
      const client = await tcp().connect({ host: "127.0.0.1", port: listener.port! });
      await client.send("ping");
      assert.equal(new TextDecoder().decode((await client.recv(4, { timeout: 5000 }))!), "ping");
      await client.close();
      await listener.waitForConnections("==", 0, { timeout: 5000 });
    } finally {
      stop();
      context.disable();
    }
    const [span] = spanExporter.getFinishedSpans();
    assert.ok(span !== undefined && span.attributes["corral.bytes_received"] === 4);
    assert.ok(seen.length >= 2);
    for (const id of seen) assert.equal(id, span.spanContext().spanId);
    await tracerProvider.shutdown();
  });

  test("docs/telemetry.md shows only code that runs in this file (imports aside)", () => {
    const here = (path: string) => new URL(`../${path}`, import.meta.url);
    const guide = readFileSync(here("docs/telemetry.md"), "utf8");
    const thisFile = readFileSync(here("test/opentelemetry_test.ts"), "utf8");
    const blocks = [...guide.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
    assert.ok(blocks.length >= 3, `only ${blocks.length} blocks found`);
    for (const block of blocks) {
      const body = block.replace(/^import [\s\S]*?from "[^"]+";\n/gm, "").trim();
      assert.ok(thisFile.includes(body), `docs/telemetry.md block not in this file:\n${body}`);
    }
  });
});
