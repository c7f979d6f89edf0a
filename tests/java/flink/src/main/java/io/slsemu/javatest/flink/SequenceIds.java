package io.slsemu.javatest.flink;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Numbers each source shard's LogGroups 1, 2, 3... in Flink keyed state (keyed by source shard).
 * The count is checkpointed with the source cursors, so after a restore the replayed groups get
 * the numbers they had, however the replay cuts them into batches: the idempotent sink's
 * sequence ids.
 */
final class SequenceIds extends KeyedProcessFunction<Integer, Batch, Batch> {
    private static final long serialVersionUID = 1L;

    private transient ValueState<Long> last;

    @Override
    public void open(OpenContext context) {
        last = getRuntimeContext().getState(new ValueStateDescriptor<>("groups-seen", Long.class));
    }

    @Override
    public void processElement(Batch batch, Context ctx, Collector<Batch> out) throws Exception {
        Long prev = last.value();
        long before = prev == null ? 0 : prev;
        batch.firstGroup = before + 1;
        last.update(before + batch.groupSizes.size());
        out.collect(batch);
    }
}
