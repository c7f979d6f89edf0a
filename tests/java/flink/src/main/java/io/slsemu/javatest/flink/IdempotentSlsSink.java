package io.slsemu.javatest.flink;

import io.slsemu.shaded.aliyunlog.Client;
import io.slsemu.shaded.aliyunlog.common.LogItem;
import io.slsemu.shaded.aliyunlog.exception.LogException;
import io.slsemu.shaded.aliyunlog.http.client.ClientConfiguration;
import io.slsemu.shaded.aliyunlog.request.PutLogsRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.sink.RichSinkFunction;

/**
 * Exactly-once into SLS without transactions: each source shard's LogGroups are written in order
 * to one hash key, each with its number as sequence id ({@code /shards/route?key=K&seqid=N}, the
 * official SDK's {@code PutLogsRequest.setHashRouteKeySeqId}). After a restore the replayed groups
 * carry the numbers they had, and SLS refuses the ones it already stored, which this sink counts
 * as written.
 */
final class IdempotentSlsSink extends RichSinkFunction<Batch> {
    private static final long serialVersionUID = 1L;
    /** Attempts per write before the task fails. */
    private static final int MAX_ATTEMPTS = 20;

    private final String host;
    private final int port;
    private final String accessKeyId;
    private final String accessKeySecret;
    private final String project;
    private final String logstore;
    private final String rejectedCode;
    private final boolean withSeqId;
    private transient Client client;

    /**
     * @param endpoint {@code localhost:PORT}: the SDK gets the bare host, and the port as its
     *     HTTP proxy (it refuses a port in the endpoint)
     * @param rejectedCode the error code of a write whose sequence id is not above the last one
     * @param withSeqId false for the control: the same writes with no sequence id
     */
    IdempotentSlsSink(String endpoint, String accessKeyId, String accessKeySecret, String project,
            String logstore, String rejectedCode, boolean withSeqId) {
        int colon = endpoint.lastIndexOf(':');
        this.host = endpoint.substring(0, colon);
        this.port = Integer.parseInt(endpoint.substring(colon + 1));
        this.accessKeyId = accessKeyId;
        this.accessKeySecret = accessKeySecret;
        this.project = project;
        this.logstore = logstore;
        this.rejectedCode = rejectedCode;
        this.withSeqId = withSeqId;
    }

    @Override
    public void open(OpenContext context) {
        ClientConfiguration config = new ClientConfiguration();
        config.setProxyHost("127.0.0.1");
        config.setProxyPort(port);
        client = new Client(host, accessKeyId, accessKeySecret, config);
    }

    /** The hash key of a source shard: an MD5, as SLS keys are. */
    static String hashKey(int shard) {
        try {
            byte[] md5 = MessageDigest.getInstance("MD5")
                    .digest(("source-shard-" + shard).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md5);
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** One PutLogs per source LogGroup, in order, each with the group's number as sequence id. */
    @Override
    public void invoke(Batch batch, Context context) throws Exception {
        int log = 0;
        for (int g = 0; g < batch.groupSizes.size(); g++) {
            int size = batch.groupSizes.get(g);
            if (size > 0) {
                write(batch, log, size, batch.firstGroup + g);
            }
            log += size;
        }
    }

    private void write(Batch batch, int from, int size, long seq)
            throws LogException, InterruptedException {
        List<LogItem> logs = new ArrayList<>(size);
        for (int i = from; i < from + size; i++) {
            LogItem log = new LogItem(batch.times.get(i));
            log.PushBack(BatchSchema.ID_KEY, batch.ids.get(i));
            log.PushBack("src_shard", Integer.toString(batch.shard));
            logs.add(log);
        }
        PutLogsRequest request = new PutLogsRequest(project, logstore, "", "", logs,
                hashKey(batch.shard));
        if (withSeqId) {
            request.setHashRouteKeySeqId(Math.toIntExact(seq));
        }
        // With a sequence id a retry is safe: a lost answer comes back as a refusal.
        long backoff = 50;
        for (int attempt = 1; ; attempt++) {
            try {
                client.PutLogs(request);
                return;
            } catch (LogException ex) {
                if (rejectedCode.equals(ex.GetErrorCode())) {
                    Events.emit(Events.event("seqid_rejected").put("shard", batch.shard)
                            .put("seq", seq));
                    return;
                }
                if (!retryable(ex) || attempt >= MAX_ATTEMPTS) {
                    // The task fails: the job replays from its last checkpoint.
                    throw ex;
                }
            }
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, 1000);
        }
    }

    /** Server errors, quota and network failures (the SDK reports those with no HTTP status). */
    private static boolean retryable(LogException ex) {
        int status = ex.GetHttpCode();
        return status >= 500 || status == 403 || status <= 0;
    }

    @Override
    public void close() {
        if (client != null) {
            client.shutdown();
        }
    }
}
