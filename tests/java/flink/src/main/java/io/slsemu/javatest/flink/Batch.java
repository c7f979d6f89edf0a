package io.slsemu.javatest.flink;

import java.util.ArrayList;
import java.util.List;

/**
 * One PullLogs answer of one source shard, as the connector emits it: the logs' harness ids and
 * times, in stored order. A Flink POJO (public fields, no-argument constructor).
 */
public class Batch {
    public int shard;
    /** The cursor this answer was read from. */
    public String cursor;
    public List<String> ids = new ArrayList<>();
    public List<Integer> times = new ArrayList<>();
    /** The batch's place among its shard's batches (1, 2, ...), set by {@link SequenceIds}. */
    public long seq;

    public Batch() {}

    Batch(int shard, String cursor) {
        this.shard = shard;
        this.cursor = cursor;
    }

    int size() {
        return ids.size();
    }
}
