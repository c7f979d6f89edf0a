package io.slsemu.javatest.flink;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Task failures at chosen moments: in attempt i of the job (every restart is a new attempt),
 * subtask 0 throws once it has seen failAfter[i] logs, so the job restarts from its last
 * completed checkpoint. Attempts past the list run undisturbed. Also reports each task start.
 */
final class FailureInjector extends RichMapFunction<Batch, Batch> {
    private static final long serialVersionUID = 1L;

    private final int[] failAfter;
    private transient int attempt;
    private transient int subtask;
    private transient long seen;
    private transient boolean failed;

    FailureInjector(int[] failAfter) {
        this.failAfter = failAfter;
    }

    @Override
    public void open(OpenContext context) {
        attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        seen = 0;
        failed = false;
        Events.emit(Events.event("task_start").put("attempt", attempt).put("subtask", subtask));
    }

    @Override
    public Batch map(Batch batch) {
        seen += batch.size();
        if (subtask == 0 && attempt < failAfter.length && seen >= failAfter[attempt]) {
            // Each shard's thread of the source calls in here: report the failure once.
            if (!failed) {
                failed = true;
                Events.emit(Events.event("task_failure").put("attempt", attempt)
                        .put("logs", seen));
            }
            throw new IllegalStateException("injected task failure in attempt " + attempt
                    + " after " + seen + " logs");
        }
        return batch;
    }
}
