package io.slsemu.javatest;

import com.aliyun.openservices.log.exception.LogException;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The consumer library logs through slf4j, bound here to java.util.logging (slf4j-jdk14); its
 * SDK's HTTP client logs through commons-logging, which also lands in java.util.logging. Both go
 * to stderr, stamped with unix time, and WARN or worse from com.aliyun loggers also becomes a
 * "warn" event.
 */
final class LogSetup {
    private LogSetup() {}

    static void install(EventLog events) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        root.setLevel(Level.INFO);

        Handler stderr = new ConsoleHandler(); // ConsoleHandler writes to System.err
        stderr.setLevel(Level.ALL);
        stderr.setFormatter(new UnixTimeFormatter());
        root.addHandler(stderr);

        root.addHandler(new WarningsToEvents(events));
    }

    /** "1733312345.678 WARNING com.aliyun...ShardConsumer message [exception]". */
    static final class UnixTimeFormatter extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder b = new StringBuilder();
            b.append(String.format("%.3f %s %s [%s] %s", r.getMillis() / 1000.0, r.getLevel(),
                    r.getLoggerName(), Thread.currentThread().getName(), formatMessage(r)));
            if (r.getThrown() != null) {
                b.append(" | ").append(describe(r.getThrown()));
            }
            return b.append(System.lineSeparator()).toString();
        }
    }

    /** An exception and its causes on one line; SLS errors with code, status and request id. */
    static String describe(Throwable ex) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = ex; c != null; c = c.getCause()) {
            if (c != ex) {
                b.append(" | caused by ");
            }
            if (c instanceof LogException le) {
                b.append(String.format("LogException %s: %s (HTTP %d, request id %s)",
                        le.GetErrorCode(), le.GetErrorMessage(), le.GetHttpCode(),
                        le.GetRequestId()));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Library warnings (heartbeat, fetch or checkpoint failures...) become "warn" events. */
    static final class WarningsToEvents extends Handler {
        private final EventLog events;
        private final Formatter formatter = new UnixTimeFormatter();

        WarningsToEvents(EventLog events) {
            this.events = events;
            setLevel(Level.WARNING);
        }

        @Override
        public void publish(LogRecord r) {
            if (!isLoggable(r) || r.getLoggerName() == null
                    || !r.getLoggerName().startsWith("com.aliyun")) {
                return;
            }
            // The library often logs warn("", exception): the exception is the message.
            String msg = formatter.formatMessage(r);
            if (r.getThrown() != null) {
                msg = (msg == null || msg.isEmpty() ? "" : msg + ": ") + describe(r.getThrown());
            }
            if (msg.length() > 500) {
                msg = msg.substring(0, 500);
            }
            events.emit(EventLog.event("warn").put("logger", r.getLoggerName()).put("msg", msg));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }
}
