package io.slsemu.javatest.flink;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slsemu.javatest.common.JsonLines;
import java.io.IOException;

/**
 * The job's event file, shared by every operator of the MiniCluster (one JVM, one class loader):
 * one JSON object per line with "event" and "at" (unix seconds).
 */
final class Events {
    private static volatile JsonLines out;

    private Events() {}

    static void open(String path) throws IOException {
        out = new JsonLines(path, "cannot write the Flink job's events");
    }

    static ObjectNode event(String name) {
        ObjectNode e = JsonLines.object();
        e.put("event", name);
        e.put("at", JsonLines.now());
        return e;
    }

    static void emit(ObjectNode event) {
        JsonLines o = out;
        if (o != null) {
            o.write(event);
        }
    }
}
