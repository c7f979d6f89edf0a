package io.slsemu.javatest.flink;

import java.util.ArrayList;
import java.util.List;

/**
 * One PullLogs answer of one source shard, as the connector emits it: the logs' harness ids and
 * times, in stored order, and how many of them each LogGroup held. A Flink POJO (public fields,
 * no-argument constructor).
 */
public class Batch {
    public int shard;
    /** The cursor this answer was read from. */
    public String cursor;
    public List<String> ids = new ArrayList<>();
    public List<Integer> times = new ArrayList<>();
    /** Logs per LogGroup, in order: the groups partition {@link #ids}. */
    public List<Integer> groupSizes = new ArrayList<>();
    /**
     * The place of the batch's first LogGroup among its shard's groups (1, 2, ...), set by
     * {@link SequenceIds}. Groups, not batches: a batch's extent depends on what had arrived when
     * it was read, so a replay may cut the shard differently; its groups are the same.
     */
    public long firstGroup;

    public Batch() {}

    Batch(int shard, String cursor) {
        this.shard = shard;
        this.cursor = cursor;
    }

    int size() {
        return ids.size();
    }
}
