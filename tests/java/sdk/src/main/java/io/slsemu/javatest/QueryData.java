package io.slsemu.javatest;

import com.aliyun.openservices.log.common.LogItem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The data set of {@link QueryChecks} (the same as {@code sls-go query}): 250 logs of known
 * content over 25 seconds in two topics. Every expected answer is computed from it.
 */
final class QueryData {

    static final int COUNT = 250;
    static final int PAGE = 100;

    /** Delimiters of the line index and of the text keys; '-' is not one ("user-3" is a term). */
    static final List<String> TOKENS = List.of(" ", ",", ";", "=", "(", ")", "[", "]", "{", "}",
            "?", "@", "&", "<", ">", "/", ":", "\"", "'", "\n", "\t", "\r");

    private static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "GET"};

    /** One written log. */
    record QLog(int time, String topic, String source, String id, String method, long status,
            double latency, String msg) {

        /** Its contents as written, which a query row must carry. */
        Map<String, String> contents() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("method", method);
            m.put("status", Long.toString(status));
            m.put("latency", String.format(Locale.ROOT, "%.2f", latency));
            m.put("msg", msg);
            return m;
        }

        LogItem item() {
            LogItem item = new LogItem(time);
            contents().forEach(item::PushBack);
            return item;
        }
    }

    /** A search and the logs it must match. */
    record Search(String query, Predicate<QLog> match) {}

    private QueryData() {}

    /** Log i is at base + i/10, topic web (even i) or batch (odd i). */
    static List<QLog> logs(int base) {
        List<QLog> out = new ArrayList<>(COUNT);
        for (int i = 0; i < COUNT; i++) {
            boolean web = i % 2 == 0;
            long status = i % 10 == 0 ? 500 : i % 10 == 5 ? 404 : 200;
            out.add(new QLog(base + i / 10, web ? "web" : "batch", web ? "10.1.0.1" : "10.1.0.2",
                    String.format("q-%03d", i), METHODS[i % METHODS.length], status, i / 4.0,
                    String.format("user-%d fetched /api/items?page=%d", i % 7, i)));
        }
        return out;
    }

    /** The search language: terms, key:value, and/or/not, ranges, wildcards, __topic__. */
    static final List<Search> SEARCHES = List.of(
            new Search("*", l -> true),
            new Search("method: GET", l -> l.method().equals("GET")),
            new Search("method: get", l -> l.method().equals("GET")),
            new Search("method: get and status >= 500",
                    l -> l.method().equals("GET") && l.status() >= 500),
            new Search("status = 404", l -> l.status() == 404),
            new Search("status in [200 404]", l -> l.status() >= 200 && l.status() <= 404),
            new Search("status in [200 404)", l -> l.status() >= 200 && l.status() < 404),
            new Search("latency > 50.5", l -> l.latency() > 50.5),
            new Search("latency <= 1.5", l -> l.latency() <= 1.5),
            new Search("latency in [10 20]", l -> l.latency() >= 10 && l.latency() <= 20),
            new Search("not method: GET", l -> !l.method().equals("GET")),
            new Search("method: PUT or method: DELETE",
                    l -> l.method().equals("PUT") || l.method().equals("DELETE")),
            new Search("(method: GET or method: PUT) and not status: 200",
                    l -> (l.method().equals("GET") || l.method().equals("PUT"))
                            && l.status() != 200),
            new Search("user-3", l -> l.msg().startsWith("user-3 ")),
            new Search("items and user-1", l -> l.msg().startsWith("user-1 ")),
            new Search("id: q-01*", l -> l.id().startsWith("q-01")),
            new Search("__topic__: batch", l -> l.topic().equals("batch")),
            new Search("__topic__: web and status: 500",
                    l -> l.topic().equals("web") && l.status() == 500),
            new Search("nosuchterm", l -> false));

    /** The logs of topic ("" = any) in [from, to) that match. */
    static List<QLog> matching(List<QLog> logs, int from, int to, String topic,
            Predicate<QLog> match) {
        return logs.stream().filter(l -> l.time() >= from && l.time() < to
                && (topic.isEmpty() || l.topic().equals(topic)) && match.test(l)).toList();
    }
}
