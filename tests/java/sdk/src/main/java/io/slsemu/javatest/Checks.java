package io.slsemu.javatest;

import com.aliyun.openservices.log.exception.LogException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/** Runs named checks, prints one PASS/FAIL line for each and keeps the tally. */
final class Checks {

    /** A check's expectation did not hold. */
    static final class CheckFailed extends RuntimeException {
        CheckFailed(String message) {
            super(message);
        }
    }

    /** A check that later checks depend on failed: stop and clean up. */
    static final class Abort extends RuntimeException {
        Abort(String name) {
            super(name);
        }
    }

    @FunctionalInterface
    interface Body<T> {
        T run() throws Exception;
    }

    @FunctionalInterface
    interface VoidBody {
        void run() throws Exception;
    }

    private final List<String> passed = new ArrayList<>();
    private final List<String> failed = new ArrayList<>();

    /** Runs one check; returns its result, or null when it failed. */
    <T> T check(String name, Body<T> body) {
        long t0 = System.nanoTime();
        String problem;
        try {
            T result = body.run();
            passed.add(name);
            System.out.printf("PASS %s (%.2fs)%n", name, seconds(t0));
            System.out.flush();
            return result;
        } catch (CheckFailed ex) {
            problem = ex.getMessage();
        } catch (LogException ex) {
            problem = "unexpected " + describe(ex);
        } catch (Exception ex) {
            // A malformed answer the SDK choked on, or a bug here: the stack says which.
            problem = ex + " at " + where(ex);
        }
        failed.add(name);
        if (problem.length() > 3000) {
            problem = problem.substring(0, 3000) + "...(cut)";
        }
        System.out.printf("FAIL %s (%.2fs): %s%n", name, seconds(t0), problem);
        System.out.flush();
        return null;
    }

    boolean run(String name, VoidBody body) {
        return check(
                        name,
                        () -> {
                            body.run();
                            return Boolean.TRUE;
                        })
                != null;
    }

    /** Like {@link #run}, but a failure aborts the run: what follows needs its result. */
    void fatal(String name, VoidBody body) {
        if (!run(name, body)) {
            throw new Abort(name);
        }
    }

    int passedCount() {
        return passed.size();
    }

    int failedCount() {
        return failed.size();
    }

    List<String> failedNames() {
        return failed;
    }

    // ---- expectations --------------------------------------------------------------------- //

    static CheckFailed fail(String format, Object... args) {
        throw new CheckFailed(String.format(format, args));
    }

    static void expect(boolean condition, String format, Object... args) {
        if (!condition) {
            fail(format, args);
        }
    }

    static void expectEq(Object actual, Object expected, String what) {
        if (!Objects.equals(actual, expected)) {
            fail("%s: got %s, expected %s", what, show(actual), show(expected));
        }
    }

    /** The call must fail with this SLS error code and HTTP status, and carry a request id. */
    static LogException expectLogError(VoidBody call, String code, int status) {
        return expectLogError(call, Set.of(code), status);
    }

    static LogException expectLogError(VoidBody call, Set<String> codes, int status) {
        try {
            call.run();
        } catch (LogException ex) {
            if (!codes.contains(ex.GetErrorCode())) {
                fail("expected error code %s, got %s", String.join(" or ", codes), describe(ex));
            }
            if (status > 0 && ex.GetHttpCode() != status) {
                fail("error code %s as expected, but HTTP status %d, expected %d (%s)",
                        ex.GetErrorCode(), ex.GetHttpCode(), status, describe(ex));
            }
            String rid = ex.GetRequestId();
            expect(rid != null && !rid.isEmpty(), "%s has no request id (x-log-requestid)",
                    describe(ex));
            return ex;
        } catch (Exception ex) {
            fail("expected LogException %s, got %s at %s", String.join(" or ", codes), ex,
                    where(ex));
        }
        throw fail("the call succeeded; expected LogException %s", String.join(" or ", codes));
    }

    static String describe(LogException ex) {
        return String.format("LogException %s: %s (HTTP %d, request id '%s')", ex.GetErrorCode(),
                ex.GetErrorMessage(), ex.GetHttpCode(), ex.GetRequestId());
    }

    static String show(Object value) {
        if (value instanceof String s) {
            return s.length() > 200 ? "'" + s.substring(0, 120) + "'...(" + s.length() + " chars)"
                    : "'" + s + "'";
        }
        return String.valueOf(value);
    }

    private static String where(Throwable ex) {
        StringWriter out = new StringWriter();
        ex.printStackTrace(new PrintWriter(out));
        String[] lines = out.toString().split("\n");
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < Math.min(lines.length, 6); i++) {
            b.append(i > 1 ? "; " : "").append(lines[i].trim().replaceFirst("^at ", ""));
        }
        return b.toString();
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
