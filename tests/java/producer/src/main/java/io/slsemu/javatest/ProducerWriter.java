package io.slsemu.javatest;

import com.aliyun.openservices.aliyun.log.producer.Attempt;
import com.aliyun.openservices.aliyun.log.producer.Callback;
import com.aliyun.openservices.aliyun.log.producer.LogProducer;
import com.aliyun.openservices.aliyun.log.producer.Producer;
import com.aliyun.openservices.aliyun.log.producer.ProducerConfig;
import com.aliyun.openservices.aliyun.log.producer.ProjectConfig;
import com.aliyun.openservices.aliyun.log.producer.Result;
import com.aliyun.openservices.aliyun.log.producer.errors.ProducerException;
import com.aliyun.openservices.aliyun.log.producer.errors.TimeoutException;
import com.aliyun.openservices.log.common.LogItem;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slsemu.javatest.common.Connection;
import io.slsemu.javatest.common.JsonLines;
import java.math.BigInteger;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A chaos writer through the official, unmodified Java producer
 * (com.aliyun.openservices:aliyun-log-producer 0.3.24): one send() per log, each with a callback
 * that writes one JSON line, Jepsen-style (the Java twin of tests/python/put_logs_writer.py).
 *
 * <p>The producer has no proxy setting and its SDK refuses a port in the endpoint;
 * ProjectConfig.setProxyIp("127.0.0.1:PORT") sends every PutLogs to that address with
 * "Host: PROJECT.ENDPOINT".
 */
@Command(name = "sls-java-producer", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Writes --count logs through the official Java producer; one JSON line "
                + "per callback.")
public final class ProducerWriter implements Callable<Integer> {

    static final BigInteger KEY_SPACE = BigInteger.ONE.shiftLeft(128);

    @Mixin
    Connection.Logstore connection;

    @Option(names = "--proxy-ip", description = "IP:PORT every request is sent to "
            + "(ProjectConfig.setProxyIp); without it, port 80 of PROJECT.ENDPOINT.")
    String proxyIp;

    @Option(names = "--count", required = true, description = "Logs to send.")
    int count;

    @Option(names = "--prefix", defaultValue = "java", description = "Log i has id PREFIX-i.")
    String prefix;

    @Option(names = "--out", required = true, description = "Output file (JSON lines, appended).")
    String out;

    @Option(names = "--shards", defaultValue = "4",
            description = "Log i gets the shard hash of bucket (i mod S) of S equal key ranges; "
                    + "0: no hash key (load-balanced). Default ${DEFAULT-VALUE}.")
    int shards;

    @Option(names = "--no-adjust-shard-hash",
            description = "ProducerConfig.setAdjustShardHash(false): send the hash as is. By "
                    + "default the producer replaces it with md5(hash) cut to 64 buckets.")
    boolean noAdjustShardHash;

    @Option(names = "--pace-ms", defaultValue = "0",
            description = "Sleep this long after every 10 sends.")
    long paceMs;

    @Option(names = "--batch-count-threshold", description = "Logs per batch (library: 4096).")
    Integer batchCountThreshold;

    @Option(names = "--linger-ms", description = "Batch linger time (library: 2000, min 100).")
    Integer lingerMs;

    @Option(names = "--retries", description = "Retries of a failed batch (library: 10).")
    Integer retries;

    @Option(names = "--base-retry-backoff-ms", description = "First retry delay (library: 100).")
    Long baseRetryBackoffMs;

    @Option(names = "--max-retry-backoff-ms", description = "Retry delay cap (library: 50000).")
    Long maxRetryBackoffMs;

    @Option(names = "--max-block-ms",
            description = "How long send() blocks on a full buffer before it throws "
                    + "(library: 60000); the send is then tried again.")
    Long maxBlockMs;

    @Option(names = "--drain-ms", defaultValue = "0",
            description = "Before close(), wait up to this long for every callback (0: close at "
                    + "once, as an application's shutdown does; close() gives each batch still "
                    + "waiting for a retry one last attempt, then reports it failed).")
    long drainMs;

    @Option(names = "--timeout-ms", defaultValue = "0",
            description = "Bound on close(), which waits for every callback (0: no bound).")
    long timeoutMs;

    public static void main(String[] args) {
        // Before any logger exists: the producer's and SDK's warnings and errors go to stderr.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.exit(new CommandLine(new ProducerWriter()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        long t0 = System.currentTimeMillis();
        JsonLines lines = new JsonLines(out, "producer: cannot write the output file");
        Producer producer = new LogProducer(producerConfig());
        ProjectConfig project = new ProjectConfig(connection.project, connection.endpoint,
                connection.accessKeyId, connection.accessKeySecret);
        if (proxyIp != null) {
            project.setProxyIp(proxyIp);
        }
        producer.putProjectConfig(project);

        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        int blocked = 0;
        for (int i = 0; i < count; i++) {
            String id = prefix + "-" + i;
            LogItem item = new LogItem((int) (System.currentTimeMillis() / 1000));
            item.PushBack("id", id);
            String hash = shards > 0 ? shardHash(i % shards, shards) : null;
            long invoke = System.currentTimeMillis();
            Callback callback = result -> {
                (result.isSuccessful() ? ok : failed).incrementAndGet();
                lines.write(record(id, invoke, result));
            };
            while (true) {
                try {
                    producer.send(connection.project, connection.logstore, "chaos",
                            "java-producer", hash, item, callback);
                    break;
                } catch (TimeoutException ex) {
                    // Backpressure: the buffer stayed full for maxBlockMs. Try again.
                    blocked++;
                    System.err.printf("producer: send of %s blocked: %s; trying again%n", id,
                            ex.getMessage());
                } catch (ProducerException | IllegalArgumentException
                        | IllegalStateException ex) {
                    // Not handed to the producer: no callback will come, record it here.
                    failed.incrementAndGet();
                    lines.write(rejected(id, invoke, ex));
                    break;
                }
            }
            if (paceMs > 0 && (i + 1) % 10 == 0) {
                Thread.sleep(paceMs);
            }
        }
        long sent = System.currentTimeMillis();
        while (lines.lines() < count && System.currentTimeMillis() - sent < drainMs) {
            Thread.sleep(50);
        }
        int status = 0;
        try {
            // close() returns once every batch is sent or failed and every callback ran.
            producer.close(timeoutMs > 0 ? timeoutMs : Long.MAX_VALUE);
        } catch (ProducerException ex) {
            System.err.println("producer: close() did not finish: " + ex.getMessage());
            status = 1;
        }
        long done = System.currentTimeMillis();
        int written = lines.lines();
        if (written != count) {
            status = 1;
        }
        System.err.printf("sls-java-producer: %d logs, %d ok, %d failed, %d lines written%s, "
                        + "sends blocked %d times; send %.2f s, drain and close %.2f s%n",
                count, ok.get(), failed.get(), written,
                written == count ? "" : " (EXPECTED " + count + ")", blocked,
                (sent - t0) / 1000.0, (done - sent) / 1000.0);
        return status;
    }

    private ProducerConfig producerConfig() {
        ProducerConfig pc = new ProducerConfig();
        if (batchCountThreshold != null) {
            pc.setBatchCountThreshold(batchCountThreshold);
        }
        if (lingerMs != null) {
            pc.setLingerMs(lingerMs);
        }
        if (retries != null) {
            pc.setRetries(retries);
        }
        // Keep every attempt in the Result (the default keeps the last 11).
        pc.setMaxReservedAttempts(Math.max(pc.getMaxReservedAttempts(), pc.getRetries() + 1));
        if (baseRetryBackoffMs != null) {
            pc.setBaseRetryBackoffMs(baseRetryBackoffMs);
        }
        if (maxRetryBackoffMs != null) {
            pc.setMaxRetryBackoffMs(maxRetryBackoffMs);
        }
        if (maxBlockMs != null) {
            pc.setMaxBlockMs(maxBlockMs);
        }
        if (noAdjustShardHash) {
            pc.setAdjustShardHash(false);
        }
        return pc;
    }

    /** The lower end of bucket b of n equal ranges of the 128-bit key space, as 32 hex digits. */
    static String shardHash(int b, int n) {
        BigInteger low = KEY_SPACE.multiply(BigInteger.valueOf(b)).divide(BigInteger.valueOf(n));
        return String.format("%032x", low);
    }

    private static ObjectNode record(String id, long invoke, Result result) {
        ObjectNode r = JsonLines.object();
        r.putArray("ids").add(id);
        r.put("invoke", JsonLines.seconds(invoke));
        r.put("complete", JsonLines.now());
        r.put("outcome", result.isSuccessful() ? "ok" : "fail");
        if (!result.isSuccessful()) {
            r.put("error", result.getErrorCode() + ": " + result.getErrorMessage());
        }
        ArrayNode attempts = r.putArray("attempts");
        for (Attempt a : result.getReservedAttempts()) {
            attempts.addObject()
                    .put("code", a.getErrorCode())
                    .put("message", a.getErrorMessage())
                    .put("requestId", a.getRequestId())
                    .put("ts", JsonLines.seconds(a.getTimestampMs()));
        }
        r.put("attemptCount", result.getAttemptCount());
        return r;
    }

    private static ObjectNode rejected(String id, long invoke, Exception ex) {
        ObjectNode r = JsonLines.object();
        r.putArray("ids").add(id);
        r.put("invoke", JsonLines.seconds(invoke));
        r.put("complete", JsonLines.now());
        r.put("outcome", "fail");
        r.put("error", "send() threw " + ex);
        r.putArray("attempts");
        r.put("attemptCount", 0);
        return r;
    }
}
