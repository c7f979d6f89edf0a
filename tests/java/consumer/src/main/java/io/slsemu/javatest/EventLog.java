package io.slsemu.javatest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slsemu.javatest.common.JsonLines;
import java.io.IOException;

/**
 * The worker's event file: one {"ev": EV, ..., "t": unix seconds} object per line, the format
 * of tests/python/consumer_worker.py. Once emit() returns, a SIGKILL cannot lose the event.
 */
final class EventLog {
    private final JsonLines out;

    EventLog(String path) throws IOException {
        this.out = new JsonLines(path, "consumer: cannot write the event file");
    }

    /** A new event {"ev": ev, ...}; the caller adds fields and passes it to {@link #emit}. */
    static ObjectNode event(String ev) {
        return JsonLines.object().put("ev", ev);
    }

    /** Stamps the event with the time it is written ("t", the last field) and appends it. */
    void emit(ObjectNode event) {
        out.write(event.put("t", JsonLines.now()));
    }
}
