package io.slsemu.javatest.flink;

import com.aliyun.openservices.log.flink.ConfigConstants;
import com.aliyun.openservices.log.flink.FlinkLogConsumer;
import com.aliyun.openservices.log.flink.FlinkLogProducer;
import io.slsemu.javatest.common.Connection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A Flink job on a local MiniCluster: the official FlinkLogConsumer reads a logstore, each
 * PullLogs answer becomes one {@link Batch}, and one sink writes them out. Checkpoints are
 * EXACTLY_ONCE and retained on local disk, so a killed JVM resumes with {@code --restore}.
 * Runs until killed (or until its restarts run out: exit status 3).
 */
@Command(name = "sls-java-flink", mixinStandardHelpOptions = true)
public final class FlinkJob implements Callable<Integer> {

    enum Sink { POSTGRES, PRODUCER, IDEMPOTENT }

    @Mixin
    Connection.Logstore sls;

    @Option(names = "--events", required = true, description = "JSON-lines event file.")
    Path events;

    @Option(names = "--sink", required = true, description = "postgres, producer or idempotent.")
    Sink sink;

    @Option(names = "--checkpoint-dir", required = true, description = "Retained checkpoints.")
    Path checkpointDir;

    @Option(names = "--restore", description = "Start from the newest retained checkpoint.")
    boolean restore;

    @Option(names = "--parallelism", defaultValue = "2")
    int parallelism;

    @Option(names = "--checkpoint-ms", defaultValue = "1000")
    long checkpointMs;

    @Option(names = "--start", defaultValue = "begin_cursor",
            description = "CONSUMER_BEGIN_POSITION: begin_cursor, end_cursor, "
                    + "consumer_from_checkpoint or a unix time.")
    String start;

    @Option(names = "--consumer-group", description = "CONSUMER_GROUP (commits progress there).")
    String consumerGroup;

    @Option(names = "--checkpoint-mode", description = "LOG_CHECKPOINT_MODE.")
    String checkpointMode;

    @Option(names = "--discovery-ms", defaultValue = "1000",
            description = "SHARDS_DISCOVERY_INTERVAL (the connector's default is 60000).")
    long discoveryMs;

    @Option(names = "--fail-after", split = ",",
            description = "Logs after which attempt 0, 1, ... of subtask 0 fails.")
    int[] failAfter = {};

    @Option(names = "--restarts", defaultValue = "1000", description = "Fixed-delay attempts.")
    int restarts;

    @Option(names = "--pg-url", description = "JDBC URL of the postgres sink's database.")
    String pgUrl;

    @Option(names = "--pg-table", defaultValue = "sink_rows")
    String pgTable;

    @Option(names = "--txn-tag", defaultValue = "flink",
            description = "Prefix of the postgres sink's transaction ids.")
    String txnTag;

    @Option(names = "--halt-at-checkpoint", defaultValue = "0",
            description = "Halt the JVM while the postgres sink prepares for this checkpoint.")
    long haltAtCheckpoint;

    @Option(names = "--commit-delay-ms", defaultValue = "0",
            description = "Pause before each COMMIT PREPARED (widens the pre-commit window).")
    long commitDelayMs;

    @Option(names = "--sink-logstore", description = "Target of the producer/idempotent sinks.")
    String sinkLogstore;

    @Option(names = "--seqid-rejected-code", defaultValue = "InvalidSequenceId",
            description = "Error code of a write whose sequence id is not above the last.")
    String seqidRejectedCode;

    @Option(names = "--no-seqid",
            description = "Control: the idempotent sink's writes without sequence ids.")
    boolean noSeqId;

    public static void main(String[] args) {
        // slf4j-simple, to stderr: Flink's chatter at WARN, the connector's own lines at INFO
        // (which cursor each shard starts from, retries, finished shards).
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.log.com.aliyun.openservices.log.flink", "info");
        // Task failures with their causes ("... switched from RUNNING to FAILED").
        System.setProperty(
                "org.slf4j.simpleLogger.log.org.apache.flink.runtime.executiongraph.ExecutionGraph",
                "info");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        System.exit(new CommandLine(new FlinkJob()).setCaseInsensitiveEnumValuesAllowed(true)
                .execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Events.open(events.toString());
        Optional<Path> restored = restore ? newestCheckpoint(checkpointDir) : Optional.empty();
        Events.emit(Events.event("started").put("pid", ProcessHandle.current().pid())
                .put("restored_from", restored.map(Path::toString).orElse(null)));

        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(parallelism, config(restored));
        DataStream<Batch> batches = env
                .addSource(new FlinkLogConsumer<>(sls.project, sls.logstore, new BatchSchema(),
                        consumerProperties()))
                .name("sls-source")
                .map(new FailureInjector(failAfter)).name("failures");
        switch (sink) {
            case POSTGRES -> {
                PostgresSink.createTable(pgUrl, pgTable);
                // Its own task, as behind the usual network exchange: the barrier reaches it
                // after the source has taken (and, with a consumer group, committed) its
                // snapshot. Chained, it would snapshot first.
                batches.addSink(new PostgresSink(pgUrl, pgTable, txnTag, haltAtCheckpoint,
                        commitDelayMs))
                        .name("postgres-2pc").disableChaining();
            }
            case PRODUCER -> batches.addSink(new FlinkLogProducer<>(new BatchSchema(),
                    producerProperties())).name("flink-log-producer");
            // Its writes are one synchronous PutLogs per source LogGroup: twice the
            // parallelism, so that more of them share each fdatasync.
            case IDEMPOTENT -> batches.keyBy(b -> b.shard).process(new SequenceIds())
                    .setParallelism(2 * parallelism)
                    .addSink(new IdempotentSlsSink(sls.endpoint, sls.accessKeyId,
                            sls.accessKeySecret, sls.project, sinkLogstore, seqidRejectedCode,
                            !noSeqId))
                    .setParallelism(2 * parallelism)
                    .name("sls-idempotent");
        }
        try {
            env.execute("sls-emu-flink-" + sink.name().toLowerCase(java.util.Locale.ROOT));
        } catch (Exception ex) {
            Events.emit(Events.event("job_failed").put("error", String.valueOf(rootCause(ex))));
            ex.printStackTrace();
            return 3;
        }
        Events.emit(Events.event("job_finished"));
        return 0;
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    private Configuration config(Optional<Path> restored) {
        Configuration c = new Configuration();
        set(c, "execution.checkpointing.interval", checkpointMs + " ms");
        set(c, "execution.checkpointing.mode", "EXACTLY_ONCE");
        set(c, "execution.checkpointing.externalized-checkpoint-retention",
                "RETAIN_ON_CANCELLATION");
        set(c, "state.checkpoints.dir", checkpointDir.toUri().toString());
        set(c, "state.checkpoints.num-retained", "3");
        set(c, "state.backend.type", "hashmap");
        set(c, "taskmanager.numberOfTaskSlots", Integer.toString(2 * parallelism));
        set(c, "restart-strategy.type", "fixed-delay");
        set(c, "restart-strategy.fixed-delay.attempts", Integer.toString(restarts));
        set(c, "restart-strategy.fixed-delay.delay", "200 ms");
        restored.ifPresent(p -> set(c, "execution.savepoint.path", p.toUri().toString()));
        return c;
    }

    private static void set(Configuration c, String key, String value) {
        c.set(ConfigOptions.key(key).stringType().noDefaultValue(), value);
    }

    private Properties common(String logstore) {
        Properties p = new Properties();
        p.put(ConfigConstants.LOG_ENDPOINT, sls.endpoint);
        p.put(ConfigConstants.LOG_ACCESSKEYID, sls.accessKeyId);
        p.put(ConfigConstants.LOG_ACCESSKEY, sls.accessKeySecret);
        p.put(ConfigConstants.LOG_PROJECT, sls.project);
        p.put(ConfigConstants.LOG_LOGSTORE, logstore);
        return p;
    }

    private Properties consumerProperties() {
        Properties p = common(sls.logstore);
        p.put(ConfigConstants.LOG_CONSUMER_BEGIN_POSITION, start);
        p.put(ConfigConstants.LOG_SHARDS_DISCOVERY_INTERVAL_MILLIS, Long.toString(discoveryMs));
        if (consumerGroup != null) {
            p.put(ConfigConstants.LOG_CONSUMERGROUP, consumerGroup);
        }
        if (checkpointMode != null) {
            p.put(ConfigConstants.LOG_CHECKPOINT_MODE, checkpointMode);
        }
        return p;
    }

    private Properties producerProperties() {
        Properties p = common(sinkLogstore);
        p.put(ConfigConstants.FLUSH_INTERVAL_MS, "100");
        return p;
    }

    /**
     * The newest retained checkpoint (a {@code chk-N} folder with its {@code _metadata}): Flink
     * writes the metadata last, and commits to sinks only after that.
     */
    static Optional<Path> newestCheckpoint(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.getFileName().toString().equals("_metadata"))
                    .filter(p -> p.getParent().getFileName().toString().startsWith("chk-"))
                    .max(Comparator.comparing(FlinkJob::modified))
                    .map(Path::getParent);
        }
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException ex) {
            return FileTime.fromMillis(0);
        }
    }
}
