/** A worker module of test/workers_test.ts that throws before it calls serveWorker(). */
export {};
throw new Error("broken at import");
