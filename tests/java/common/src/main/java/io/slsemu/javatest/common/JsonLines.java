package io.slsemu.javatest.common;

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
 * write(2) made before write() returns, so a SIGKILL cannot lose a line already written.
 */
public final class JsonLines {
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);

    private final FileOutputStream out;
    private final String failure;
    private int lines;

    /**
     * Opens path for appending. If a line cannot be written, failure and the error go to
     * stderr and the process halts with status 4.
     */
    public JsonLines(String path, String failure) throws IOException {
        this.out = new FileOutputStream(path, true);
        this.failure = failure;
    }

    public static ObjectNode object() {
        return JSON.createObjectNode();
    }

    public static ArrayNode array() {
        return JSON.createArrayNode();
    }

    /** Unix seconds with millisecond digits, written plainly (a double would print 1.7E9). */
    public static BigDecimal seconds(long millis) {
        return BigDecimal.valueOf(millis, 3);
    }

    public static BigDecimal now() {
        return seconds(System.currentTimeMillis());
    }

    public void write(ObjectNode record) {
        byte[] line;
        try {
            line = (JSON.writeValueAsString(record) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        synchronized (this) {
            try {
                out.write(line);
                out.flush();
                lines++;
            } catch (IOException ex) {
                // The record is the whole point of these programs: without it, stop.
                System.err.println(failure + ": " + ex);
                Runtime.getRuntime().halt(4);
            }
        }
    }

    /** Lines written so far. */
    public synchronized int lines() {
        return lines;
    }
}
