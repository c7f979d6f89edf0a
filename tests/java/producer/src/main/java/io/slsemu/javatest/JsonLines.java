package io.slsemu.javatest;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
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
final class JsonLines {
    static final ObjectMapper JSON =
            new ObjectMapper().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);

    private final FileOutputStream out;
    private int lines;

    JsonLines(String path) throws IOException {
        this.out = new FileOutputStream(path, true);
    }

    /** Unix seconds with millisecond digits, written plainly (a double would print 1.7E9). */
    static BigDecimal seconds(long millis) {
        return BigDecimal.valueOf(millis, 3);
    }

    void write(ObjectNode record) {
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
                // The record is the whole point of this process: without it, stop.
                System.err.println("producer: cannot write the output file: " + ex);
                Runtime.getRuntime().halt(4);
            }
        }
    }

    synchronized int lines() {
        return lines;
    }
}
