package io.slsemu.javatest;

import com.aliyun.openservices.loghub.client.ClientWorker;
import com.aliyun.openservices.loghub.client.config.LogHubConfig;
import com.aliyun.openservices.loghub.client.config.LogHubConfig.ConsumePosition;
import com.aliyun.openservices.loghub.client.exceptions.LogHubClientWorkerException;
import io.slsemu.javatest.common.Connection;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * One consumer-group worker process: the official, unmodified ClientWorker of
 * com.aliyun.openservices:loghub-client-lib 0.6.41 with a processor that records what it is
 * given (the Java twin of tests/python/consumer_worker.py; same event file format).
 *
 * <p>The library has no proxy setting: it reaches http://PROJECT.ENDPOINT/ on port 80, so the
 * emulator must listen on port 80 and ENDPOINT's subdomains must resolve to it.
 */
@Command(name = "sls-java-consumer", mixinStandardHelpOptions = true, sortOptions = false,
        resourceBundle = "sls-java-consumer",
        description = "One consumer-group worker (loghub-client-lib ClientWorker) recording "
                + "events as JSON lines.")
public final class ConsumerWorkerMain implements Callable<Integer> {

    enum Position { BEGIN, END }

    @Mixin
    Connection.Logstore connection;

    @Option(names = "--group", required = true, description = "Consumer group name.")
    String group;

    @Option(names = "--consumer", required = true, description = "This consumer's name.")
    String consumer;

    @Option(names = "--out", required = true, description = "Event file (JSON lines, appended).")
    String out;

    @Option(names = "--in-order", description = "Create the group with order=true.")
    boolean inOrder;

    @Option(names = "--heartbeat-interval-ms", defaultValue = "1000",
            description = "Heartbeat period (default ${DEFAULT-VALUE}; library default 5000).")
    long heartbeatIntervalMs;

    @Option(names = "--timeout-secs", defaultValue = "3",
            description = "The consumer group's timeout, created or updated by the worker "
                    + "(default ${DEFAULT-VALUE}; library default 60).")
    int timeoutSecs;

    @Option(names = "--fetch-interval-ms", defaultValue = "200",
            description = "Worker main-loop period (default ${DEFAULT-VALUE}, as the library's).")
    long fetchIntervalMs;

    @Option(names = "--max-fetch", defaultValue = "1000",
            description = "Log groups per PullLogs (default ${DEFAULT-VALUE}, as the library's).")
    int maxFetch;

    @Option(names = "--process-delay-ms", defaultValue = "0",
            description = "Sleep in process() per non-empty batch (builds a backlog).")
    long processDelayMs;

    @Option(names = "--fail-batch", defaultValue = "0",
            description = "process() throws on the Nth non-empty batch of this process, over "
                    + "all shards (1-based; 0 = never).")
    int failBatch;

    @Option(names = "--lazy-commit",
            description = "process() calls saveCheckPoint(false), as the library's samples do: "
                    + "the cursor is kept and committed by the auto-commit (every 60 s), on "
                    + "handover and at shutdown. Batch events then say \"committed\": false.")
    boolean lazyCommit;

    @Option(names = "--auto-commit-ms", defaultValue = "60000",
            description = "LogHubConfig.setAutoCommitIntervalMs: how often the library commits "
                    + "the cursor kept by saveCheckPoint(false) (default ${DEFAULT-VALUE}, as "
                    + "the library's).")
    long autoCommitMs;

    @Option(names = "--position", defaultValue = "begin",
            description = "Where a shard without checkpoint starts: begin or end.")
    Position position;

    private final CountDownLatch stop = new CountDownLatch(1);

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new ConsumerWorkerMain())
                .setCaseInsensitiveEnumValuesAllowed(true);
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        dieWithParent();
        EventLog events = new EventLog(out);
        LogSetup.install(events);
        // Signals only set a flag: the graceful stop runs on this thread, with logging intact
        // (shutdown hooks would race java.util.logging's own reset).
        Signal.handle(new Signal("TERM"), sig -> stop.countDown());
        Signal.handle(new Signal("INT"), sig -> stop.countDown());

        LogHubConfig config = new LogHubConfig(group, consumer, connection.endpoint,
                connection.project, connection.logstore, connection.accessKeyId,
                connection.accessKeySecret,
                position == Position.BEGIN ? ConsumePosition.BEGIN_CURSOR
                        : ConsumePosition.END_CURSOR);
        config.setHeartBeatIntervalMillis(heartbeatIntervalMs);
        config.setTimeoutInSeconds(timeoutSecs);
        config.setFetchIntervalMillis(fetchIntervalMs);
        config.setMaxFetchLogGroupSize(maxFetch);
        config.setConsumeInOrder(inOrder);
        config.setAutoCommitIntervalMs(autoCommitMs);

        Recorder.Shared shared = new Recorder.Shared(events, processDelayMs, failBatch, lazyCommit);
        ClientWorker worker;
        try {
            // The constructor creates the consumer group, or updates its timeout and order.
            worker = new ClientWorker(() -> new Recorder(shared), config);
        } catch (LogHubClientWorkerException | RuntimeException ex) {
            events.emit(EventLog.event("error").put("msg", describe(ex)));
            return 1;
        }
        Thread thread = new Thread(worker, "client-worker");
        thread.setUncaughtExceptionHandler((t, ex) ->
                events.emit(EventLog.event("error").put("msg", "worker thread died: "
                        + describe(ex))));
        thread.start();
        events.emit(EventLog.event("start"));

        while (!stop.await(200, TimeUnit.MILLISECONDS) && thread.isAlive()) {
            // Wait for a signal, or for the worker thread to end by itself.
        }
        if (stop.getCount() > 0) {
            events.emit(EventLog.event("error").put("msg", "the worker thread ended by itself"));
            return 1;
        }
        // Stops the main loop (waits up to 20 s for it), shuts every shard consumer down
        // (processor.shutdown, then a checkpoint flush), stops the heartbeat. No leaving
        // heartbeat is sent: the server expires this consumer after the group's timeout.
        worker.shutdown();
        thread.join(60_000);
        if (thread.isAlive()) {
            events.emit(EventLog.event("error").put("msg",
                    "the worker thread did not stop within 60 s"));
            return 1;
        }
        events.emit(EventLog.event("exit"));
        return 0;
    }

    /** No worker may outlive the test that started it: halt once the parent is gone. */
    private static void dieWithParent() {
        ProcessHandle parent = ProcessHandle.current().parent().orElse(null);
        if (parent == null) {
            Runtime.getRuntime().halt(3);
        }
        Thread watch = new Thread(() -> {
            // A dead parent may stay a zombie (still "alive") until reaped, but its children are
            // reparented at once: a changed parent pid is the prompt signal.
            while (parent.isAlive() && ProcessHandle.current().parent()
                    .map(p -> p.pid() == parent.pid()).orElse(false)) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ex) {
                    return;
                }
            }
            System.err.println("consumer: parent process " + parent.pid() + " is gone; halting");
            Runtime.getRuntime().halt(3);
        }, "parent-watch");
        watch.setDaemon(true);
        watch.start();
    }

    private static String describe(Throwable ex) {
        String s = LogSetup.describe(ex);
        return s.length() > 500 ? s.substring(0, 500) : s;
    }
}
