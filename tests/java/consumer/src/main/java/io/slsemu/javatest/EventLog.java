package io.slsemu.javatest;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;

/**
 * Appends one JSON object per line to a file, thread-safe. Each line is a single unbuffered
 * write(2) made before emit() returns, so once an event is emitted a SIGKILL cannot lose it.
 */
final class EventLog {
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);

    private final FileOutputStream out;

    EventLog(String path) throws IOException {
        this.out = new FileOutputStream(path, true);
    }

    /** A new event {"ev": ev, ...}; the caller adds fields and passes it to {@link #emit}. */
    static ObjectNode event(String ev) {
        return JSON.createObjectNode().put("ev", ev);
    }

    static ArrayNode array() {
        return JSON.createArrayNode();
    }

    void emit(ObjectNode event) {
        // Unix seconds with millisecond digits, written plainly (a double would print 1.7E9).
        event.put("t", BigDecimal.valueOf(System.currentTimeMillis(), 3));
        byte[] line;
        try {
            line = (JSON.writeValueAsString(event) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        synchronized (this) {
            try {
                out.write(line);
                out.flush();
            } catch (IOException ex) {
                // The record is the whole point of this process: without it, stop.
                System.err.println("consumer: cannot write the event file: " + ex);
                Runtime.getRuntime().halt(4);
            }
        }
    }
}
