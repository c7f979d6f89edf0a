package io.slsemu.javatest;

import com.aliyun.openservices.log.common.FastLog;
import com.aliyun.openservices.log.common.FastLogContent;
import com.aliyun.openservices.log.common.FastLogGroup;
import com.aliyun.openservices.log.common.LogGroupData;
import com.aliyun.openservices.loghub.client.DefaultLogHubCheckPointTracker;
import com.aliyun.openservices.loghub.client.ILogHubCheckPointTracker;
import com.aliyun.openservices.loghub.client.exceptions.LogHubCheckPointException;
import com.aliyun.openservices.loghub.client.interfaces.ILogHubProcessor;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slsemu.javatest.common.JsonLines;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The processor the library runs for one shard: records init / batch / shutdown and commits a
 * checkpoint after every batch. Every event is written before the commit it describes.
 */
final class Recorder implements ILogHubProcessor {

    /** Settings and state shared by the processors of this process. */
    static final class Shared {
        final EventLog events;
        final long processDelayMs;
        final int failBatch;
        /** saveCheckPoint(false) after a batch instead of (true). */
        final boolean lazy;
        /** Non-empty batches handed to process() in this process, over every shard. */
        final AtomicInteger handed = new AtomicInteger();

        Shared(EventLog events, long processDelayMs, int failBatch, boolean lazy) {
            this.events = events;
            this.processDelayMs = processDelayMs;
            this.failBatch = failBatch;
            this.lazy = lazy;
        }
    }

    private final Shared shared;
    private int shard = -1;
    /** The cursor of the last batch event: an empty batch at the same cursor is not recorded. */
    private String lastRecorded;

    Recorder(Shared shared) {
        this.shared = shared;
    }

    @Override
    public void initialize(int shardId) {
        shard = shardId;
        shared.events.emit(EventLog.event("init").put("shard", shard));
    }

    @Override
    public String process(List<LogGroupData> logGroups, ILogHubCheckPointTracker tracker) {
        ArrayNode ids = ids(logGroups);
        String cursor = nextCursor(tracker);
        if (ids.isEmpty()) {
            // 0.6.41 calls process() after every fetch, also an empty one (every 0.5 s per idle
            // shard). Only the first at a cursor matters: its commit may be the first of the
            // shard (an empty shard's begin cursor, which finishes an empty readonly shard);
            // later ones commit nothing new.
            if (!Objects.equals(cursor, lastRecorded)) {
                record("batch", ids, cursor);
                lastRecorded = cursor;
            }
            save(tracker);
            return null;
        }
        // Marks a process() under way, so a test can stop the worker in the middle of one.
        shared.events.emit(EventLog.event("processing").put("shard", shard));
        if (shared.processDelayMs > 0) {
            sleep(shared.processDelayMs);
        }
        if (shared.handed.incrementAndGet() == shared.failBatch) {
            // An application error, as a sink outage would raise. The library should hand this
            // batch over again (C&P §6 C9); 0.6.41 logs it and moves on (ProcessTask).
            record("raise", ids, cursor);
            throw new RuntimeException("chaos: process() fails on batch " + shared.failBatch);
        }
        record("batch", ids, cursor);
        lastRecorded = cursor;
        save(tracker);
        return null; // no rollback
    }

    /** A batch event; with lazy commits it says the cursor is not committed yet. */
    private void record(String ev, ArrayNode ids, String cursor) {
        ObjectNode e = batchEvent(ev, ids, cursor);
        if (shared.lazy) {
            e.put("committed", false);
        }
        shared.events.emit(e);
    }

    /** After a batch: saveCheckPoint(true), or (false) with lazy commits. */
    private void save(ILogHubCheckPointTracker tracker) {
        save(tracker, !shared.lazy);
    }

    @Override
    public void shutdown(ILogHubCheckPointTracker tracker) {
        shared.events.emit(EventLog.event("shutdown").put("shard", shard)
                .put("cursor", nextCursor(tracker)));
        commit(tracker);
    }

    /** saveCheckPoint(true): UpdateCheckPoint with the batch's next cursor, now. */
    private void commit(ILogHubCheckPointTracker tracker) {
        save(tracker, true);
    }

    private void save(ILogHubCheckPointTracker tracker, boolean persistent) {
        try {
            tracker.saveCheckPoint(persistent);
        } catch (LogHubCheckPointException ex) {
            // The library already retried 3 times; as its samples do, go on. The next commit
            // carries a later cursor.
            shared.events.emit(EventLog.event("warn").put("logger", "processor")
                    .put("msg", truncate("checkpoint commit failed on shard " + shard + ": "
                            + LogSetup.describe(ex))));
        }
    }

    private ObjectNode batchEvent(String ev, ArrayNode ids, String cursor) {
        ObjectNode e = EventLog.event(ev).put("shard", shard);
        e.set("ids", ids);
        return e.put("cursor", cursor);
    }

    /**
     * The cursor saveCheckPoint(true) commits. The tracker handed to process() is the library's
     * public DefaultLogHubCheckPointTracker, whose next cursor is the fetched batch's; the
     * interface only exposes the batch's own (start) cursor.
     */
    private static String nextCursor(ILogHubCheckPointTracker tracker) {
        if (tracker instanceof DefaultLogHubCheckPointTracker t) {
            return t.getNextCursor();
        }
        return null;
    }

    /** The "id" content of every log, in order; null where a log has none. */
    private static ArrayNode ids(List<LogGroupData> groups) {
        ArrayNode ids = JsonLines.array();
        for (LogGroupData g : groups) {
            FastLogGroup fg = g.GetFastLogGroup();
            for (int i = 0; i < fg.getLogsCount(); i++) {
                FastLog log = fg.getLogs(i);
                String id = null;
                for (int j = 0; j < log.getContentsCount(); j++) {
                    FastLogContent c = log.getContents(j);
                    if ("id".equals(c.getKey())) {
                        id = c.getValue();
                        break;
                    }
                }
                ids.add(id);
            }
        }
        return ids;
    }

    private static String truncate(String s) {
        return s.length() > 500 ? s.substring(0, 500) : s;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
